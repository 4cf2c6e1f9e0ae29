#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/posix_file.h"

namespace distillery::io {

namespace {

namespace fs = std::filesystem;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

[[noreturn]] void fail_io(const char* what, const std::string& path, int error) {
  // A stream error can leave errno untouched; "Success" would be a confusing reason.
  fail(ErrorCode::Io, what, " '", path, "': ", std::strerror(error != 0 ? error : EIO));
}

fs::path directory_of(const fs::path& target) { return target.has_parent_path() ? target.parent_path() : fs::path("."); }

/** This host's name as temporary names carry it: letters, digits and dots only (no '-', which separates fields). */
std::string host_tag() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "host";
  std::string tag(name);
  for (char& c : tag) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') c = '_';
  }
  return tag.empty() ? "host" : tag;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

/** Removes `<name>.tmp-<host>-<pid>-<random>` files next to `target` that a process of this host
 *  which no longer runs left behind (killed mid-write); another host's, or a live one's, are kept. */
void remove_stale_temporaries(const fs::path& target) {
  const std::string prefix = target.filename().string() + ".tmp-" + host_tag() + "-";
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory_of(target), error)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // <pid>-<random>
    const size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(rest.c_str(), &end, 10);
    if (end != rest.c_str() + dash || process_alive(pid)) continue;
    std::error_code ignored;
    fs::remove(entry.path(), ignored);
  }
}

std::string random_suffix() {
  std::random_device device;
  std::ostringstream out;
  out << std::hex << device() << device();
  return out.str();
}

// The temporary file until it is renamed over the target: leaving scope any other way (an
// exception from the writer, a failed flush) deletes it, so failures leave no litter.
class TempFile {
 public:
  TempFile(const fs::path& target, const std::string& path) : target_(path) {
    // Host and pid keep concurrent writers in different processes apart (and let a later write
    // tell a dead writer's leftovers from a live one's), the random part those in one process;
    // O_EXCL makes a collision fail instead of sharing a file.
    const std::string stem = target.filename().string() + ".tmp-" + host_tag() + "-" + std::to_string(::getpid()) + "-";
    for (int attempt = 0; attempt < 16; ++attempt) {
      path_ = (directory_of(target) / (stem + random_suffix())).string();
      UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
      if (fd.get() < 0 && errno == EEXIST) continue;
      if (fd.get() < 0) fail_io("cannot create a temporary file for", target_, errno);
      file_.reset(::fdopen(fd.get(), "wb"));
      if (!file_) {
        const int error = errno;
        ::unlink(path_.c_str());
        fail_io("cannot open a temporary file for", target_, error);
      }
      fd.release();
      return;
    }
    fail(ErrorCode::Io, "cannot create a temporary file for '", path, "': names keep colliding");
  }

  ~TempFile() {
    file_.reset();
    if (!committed_) ::unlink(path_.c_str());
  }

  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  std::FILE* stream() const { return file_.get(); }

  void commit() {
    if (std::fflush(file_.get()) != 0 || std::ferror(file_.get())) fail_io("cannot write", target_, errno);
    if (::fsync(::fileno(file_.get())) != 0) fail_io("cannot sync", target_, errno);
    if (std::fclose(file_.release()) != 0) fail_io("cannot close", target_, errno);
    if (std::rename(path_.c_str(), target_.c_str()) != 0) fail_io("cannot replace", target_, errno);
    committed_ = true;
  }

 private:
  std::string target_;
  std::string path_;
  FilePtr file_;
  bool committed_ = false;
};

void sync_directory(const fs::path& directory, const std::string& path) {
  UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail_io("cannot open the directory of", path, errno);
  // Some filesystems cannot fsync a directory at all (EINVAL); the rename is then as durable as
  // they make it, which is no reason to report a write that happened as failed.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) fail_io("cannot sync the directory of", path, errno);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write) {
  const fs::path target(path);
  std::error_code error;
  fs::create_directories(directory_of(target), error);
  if (error) {
    fail(ErrorCode::Io, "cannot create directory '", directory_of(target).string(), "' for '", path, "': ", error.message());
  }
  remove_stale_temporaries(target);
  TempFile temp(target, path);
  errno = 0;
  write(temp.stream());
  temp.commit();
  sync_directory(directory_of(target), path);
}

}  // namespace distillery::io

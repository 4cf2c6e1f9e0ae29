#include "io/posix_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace distillery::io {

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ReadableFile open_readable(const std::string& path) {
  // O_NONBLOCK: opening a FIFO named like a data file would otherwise wait for a writer forever;
  // it changes nothing for the regular files that get past the check below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) fail(ErrorCode::FileNotFound, "no such file: '", path, "'");
    fail(ErrorCode::Io, "cannot open '", path, "': ", std::strerror(error));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) fail(ErrorCode::Io, "cannot stat '", path, "': ", std::strerror(errno));
  // A directory opens fine for reading; say so here rather than fail obscurely at read or mmap.
  if (!S_ISREG(info.st_mode)) {
    const char* kind = S_ISDIR(info.st_mode)                            ? "a directory"
                       : S_ISFIFO(info.st_mode)                         ? "a FIFO"
                       : S_ISSOCK(info.st_mode)                         ? "a socket"
                       : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode) ? "a device"
                                                                        : "not a file";
    fail(ErrorCode::Io, "'", path, "' is ", kind, ", not a regular file");
  }
  return ReadableFile{std::move(fd), static_cast<std::uint64_t>(info.st_size)};
}

void read_exact(const ReadableFile& file, const std::string& path, std::uint64_t offset, void* out, std::size_t size) {
  auto* cursor = static_cast<unsigned char*>(out);
  while (size > 0) {
    const ssize_t got = ::pread(file.fd.get(), cursor, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(ErrorCode::Io, "cannot read '", path, "': ", std::strerror(errno));
    if (got == 0) fail(ErrorCode::Io, "cannot read '", path, "': file shrank while being read");
    cursor += got;
    offset += static_cast<std::uint64_t>(got);
    size -= static_cast<std::size_t>(got);
  }
}

MappedFile::MappedFile(const ReadableFile& file, const std::string& path)
    : address_(::mmap(nullptr, static_cast<std::size_t>(file.size), PROT_READ, MAP_PRIVATE, file.fd.get(), 0)),
      size_(static_cast<std::size_t>(file.size)) {
  if (address_ == MAP_FAILED) fail(ErrorCode::Io, "cannot map '", path, "': ", std::strerror(errno));
  // Every byte is copied out once, front to back.
  ::madvise(address_, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() { ::munmap(address_, size_); }

}  // namespace distillery::io

#include "data/file_list.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/error.h"
#include "core/limits.h"
#include "io/posix_file.h"

namespace distillery::data {

namespace fs = std::filesystem;

namespace {
// torchvision's IMG_EXTENSIONS; files in other formats than JPEG and PNG are listed (so indices
// match torchvision's) and reported when read.
bool has_image_extension(const std::string& name) {
  static const char* const extensions[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(std::begin(extensions), std::end(extensions), [&](const char* e) {
    const std::string ext(e);
    return lower.size() >= ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0;
  });
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}
}  // namespace

namespace {
// Deeper than any real dataset tree, and far short of a stack overflow.
constexpr int kMaxFolderDepth = 64;

struct DirectoryId {
  dev_t device;
  ino_t inode;
  fs::path path;
};

/** What a folder walk has found: (folder, file name) pairs of every image file, os.walk style. */
class FolderWalk {
 public:
  /** `files` counts the files of every walk of one dataset, against the limit. */
  FolderWalk(std::string root, int64_t* files) : root_(std::move(root)), files_(files) {}

  /** Lists `dir` and its subfolders, following symlinks (as torchvision's os.walk(followlinks=True))
   *  but refusing a link that leads back to a folder above it, where os.walk would never end. */
  void walk(const fs::path& dir, int depth) {
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0)
      fail(ErrorCode::Io, "image folder ", root_, ": cannot read ", dir.string(), ": ", std::strerror(errno));
    for (const DirectoryId& above : ancestors_) {
      if (above.device == info.st_dev && above.inode == info.st_ino) {
        fail(ErrorCode::InvalidArgument, "image folder ", root_, ": ", dir.string(), " is a symlink loop (it leads back to ",
             above.path.string(), "); remove the link or point it elsewhere");
      }
    }
    if (depth > kMaxFolderDepth) {
      fail(ErrorCode::InvalidArgument, "image folder ", root_, ": folders nest deeper than ", kMaxFolderDepth, " levels at ",
           dir.string());
    }
    ancestors_.push_back({info.st_dev, info.st_ino, dir});
    std::error_code error;
    fs::directory_iterator entries(dir, error);
    if (error) fail(ErrorCode::Io, "image folder ", root_, ": cannot list ", dir.string(), ": ", error.message());
    for (const fs::directory_entry& entry : entries) {
      std::error_code kind;
      // is_directory follows symlinks; a dangling link or a FIFO named like an image is listed, as
      // torchvision lists it, and reported by the reader (which never blocks on it) when loaded.
      if (entry.is_directory(kind)) {
        walk(entry.path(), depth + 1);
      } else if (has_image_extension(entry.path().filename().string())) {
        check_limit(Limit::DatasetFiles, ++*files_, "image folder " + root_);
        found_.emplace_back(entry.path().parent_path().string(), entry.path().filename().string());
      }
    }
    ancestors_.pop_back();
  }

  std::vector<std::pair<std::string, std::string>> take() { return std::exchange(found_, {}); }

 private:
  std::string root_;
  int64_t* files_;
  std::vector<DirectoryId> ancestors_;
  std::vector<std::pair<std::string, std::string>> found_;
};
}  // namespace

FileList scan_image_folder(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    fail(ErrorCode::FileNotFound, "image folder ", root, " does not exist or is not a directory");
  }
  FileList list;
  list.root = root;
  fs::directory_iterator top(root, ec);
  if (ec) fail(ErrorCode::Io, "image folder ", root, ": cannot list it: ", ec.message());
  for (const fs::directory_entry& entry : top) {
    std::error_code kind;
    if (entry.is_directory(kind)) list.classes.push_back(entry.path().filename().string());
  }
  std::sort(list.classes.begin(), list.classes.end());
  check_limit(Limit::Classes, static_cast<int64_t>(list.classes.size()), "image folder " + root + " (class folders)");
  if (list.classes.empty()) {
    fail(ErrorCode::InvalidArgument, "image folder ", root,
         " has no class folders (expected one subfolder per class, as torchvision's ImageFolder)");
  }
  std::vector<std::string> empty;
  int64_t files = 0;
  for (size_t label = 0; label < list.classes.size(); ++label) {
    // os.walk order, sorted: by containing folder, then by file name.
    FolderWalk walk(root, &files);
    walk.walk(fs::path(root) / list.classes[label], 1);
    std::vector<std::pair<std::string, std::string>> found = walk.take();
    if (found.empty()) empty.push_back(list.classes[label]);
    std::sort(found.begin(), found.end());
    for (const auto& [folder, name] : found) {
      list.paths.push_back(fs::path(folder).lexically_relative(root) / name);
      list.labels.push_back(static_cast<int64_t>(label));
    }
  }
  if (!empty.empty()) {
    std::string names;
    for (const auto& n : empty) names += (names.empty() ? "" : ", ") + n;
    fail(ErrorCode::InvalidArgument, "image folder ", root, ": no image file in the class folder(s) ", names,
         " (extensions .jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp)");
  }
  return list;
}

namespace {
// Longer than any path a filesystem accepts (PATH_MAX is 4096) plus a label.
constexpr size_t kMaxLineBytes = 16384;

/** Hands out a file's lines one at a time, reading it in blocks: a list's size costs no memory of its own. */
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), file_(io::open_readable(path)) {}

  bool next(std::string& line) {
    line.clear();
    for (;;) {
      const auto newline = std::find(block_.begin() + static_cast<std::ptrdiff_t>(used_), block_.end(), '\n');
      line.append(block_.begin() + static_cast<std::ptrdiff_t>(used_), newline);
      if (line.size() > kMaxLineBytes) {
        fail(ErrorCode::CorruptFile, "file list ", path_, " line ", number_ + 1, ": longer than ", kMaxLineBytes,
             " bytes; is this a list of path,label lines?");
      }
      if (newline != block_.end()) {
        used_ = static_cast<size_t>(newline - block_.begin()) + 1;
        ++number_;
        return true;
      }
      if (offset_ == file_.size) {
        used_ = block_.size();
        if (line.empty()) return false;
        ++number_;
        return true;
      }
      block_.resize(static_cast<size_t>(std::min<uint64_t>(file_.size - offset_, uint64_t{1} << 20)));
      io::read_exact(file_, path_, offset_, block_.data(), block_.size());
      offset_ += block_.size();
      used_ = 0;
    }
  }

  int64_t number() const { return number_; }

 private:
  std::string path_;
  io::ReadableFile file_;
  std::string block_;
  size_t used_ = 0;
  uint64_t offset_ = 0;
  int64_t number_ = 0;
};
}  // namespace

FileList read_file_list(const std::string& list_path, const std::string& root) {
  // Read through the checked opener: a FIFO or a directory given as the list is an error, not a hang.
  LineReader in(list_path);
  FileList list;
  list.root = root.empty() ? fs::path(list_path).parent_path().string() : root;
  std::string line;
  while (in.next(line)) {
    const int64_t number = in.number();
    line = trim(line);
    if (line.empty()) continue;
    const auto comma = line.rfind(',');
    if (comma == std::string::npos) {
      fail(ErrorCode::CorruptFile, "file list ", list_path, " line ", number, ": expected path,label, got '", line, "'");
    }
    const std::string path = trim(line.substr(0, comma)), label = trim(line.substr(comma + 1));
    if (number == 1 && path == "path" && label == "label") continue;
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(label, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (path.empty() || used != label.size() || value < 0) {
      fail(ErrorCode::CorruptFile, "file list ", list_path, " line ", number, ": expected path,label with a label >= 0, got '",
           line, "'");
    }
    check_limit(Limit::Classes, std::min<long long>(value, INT64_MAX - 1) + 1,
                "file list " + list_path + " line " + std::to_string(number) + " (label " + label + ")");
    check_limit(Limit::DatasetFiles, static_cast<int64_t>(list.paths.size()) + 1, "file list " + list_path);
    list.paths.push_back(path);
    list.labels.push_back(value);
  }
  if (list.paths.empty()) fail(ErrorCode::CorruptFile, "file list ", list_path, " lists no files");
  return list;
}

}  // namespace distillery::data

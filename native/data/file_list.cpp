#include "data/file_list.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <utility>

#include "core/error.h"

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

FileList scan_image_folder(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    fail(ErrorCode::FileNotFound, "image folder ", root, " does not exist or is not a directory");
  }
  FileList list;
  list.root = root;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) list.classes.push_back(entry.path().filename().string());
  }
  std::sort(list.classes.begin(), list.classes.end());
  if (list.classes.empty()) {
    fail(ErrorCode::InvalidArgument, "image folder ", root,
         " has no class folders (expected one subfolder per class, as torchvision's ImageFolder)");
  }
  std::vector<std::string> empty;
  for (size_t label = 0; label < list.classes.size(); ++label) {
    // os.walk order, sorted: by containing folder, then by file name.
    std::vector<std::pair<std::string, std::string>> found;
    const fs::path dir = fs::path(root) / list.classes[label];
    for (const auto& entry : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink)) {
      if (!entry.is_directory() && has_image_extension(entry.path().filename().string())) {
        found.emplace_back(entry.path().parent_path().string(), entry.path().filename().string());
      }
    }
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

FileList read_file_list(const std::string& list_path, const std::string& root) {
  std::ifstream in(list_path);
  if (!in) fail(ErrorCode::FileNotFound, "file list ", list_path, " cannot be opened");
  FileList list;
  list.root = root.empty() ? fs::path(list_path).parent_path().string() : root;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
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
    list.paths.push_back(path);
    list.labels.push_back(value);
  }
  if (list.paths.empty()) fail(ErrorCode::CorruptFile, "file list ", list_path, " lists no files");
  return list;
}

}  // namespace distillery::data

#pragma once
// Which image files make a dataset: torchvision's ImageFolder layout (one folder per class, classes
// numbered in sorted order) or an explicit list of path,label lines.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery::data {

/** Image files and their labels; paths are relative to root. */
struct FileList {
  std::string root;
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  std::vector<std::string> classes;  // empty for a list without class names
};

/** torchvision's ImageFolder(root): class = sorted subfolder name, files found recursively (following
 *  links) with torchvision's image extensions, ordered by folder then name. E_FILE_NOT_FOUND for a
 *  missing root; E_ARGUMENT naming the folder when there are no classes or a class has no image. */
FileList scan_image_folder(const std::string& root);

/** A list file of `path,label` lines (a `path,label` header line is allowed; paths relative to
 *  `root`, or to the list's folder when root is empty). E_CORRUPT_FILE naming the file and line. */
FileList read_file_list(const std::string& list, const std::string& root);

}  // namespace distillery::data

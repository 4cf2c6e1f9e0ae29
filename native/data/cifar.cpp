#include "data/cifar.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/limits.h"
#include "io/posix_file.h"

namespace distillery::data {

namespace {
constexpr int64_t kPixels = 3 * 32 * 32;

struct Layout {
  std::vector<std::string> files;
  int64_t label_bytes;  // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, then fine)
  int64_t classes;
};

Layout layout(const std::string& dir, const std::string& split) {
  namespace fs = std::filesystem;
  const auto has = [&](const char* name) { return fs::exists(fs::path(dir) / name); };
  if (has("data_batch_1.bin") || has("test_batch.bin")) {
    if (split == "test") return {{"test_batch.bin"}, 1, 10};
    return {{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, 1, 10};
  }
  if (has("train.bin") || has("test.bin")) return {{split + ".bin"}, 2, 100};
  std::error_code ec;
  fail(ErrorCode::FileNotFound, "CIFAR binary files not found in ", dir, fs::is_directory(dir, ec) ? "" : " (no such directory)",
       ": expected data_batch_1.bin..data_batch_5.bin and test_batch.bin (CIFAR-10, cifar-10-batches-bin) or train.bin and "
       "test.bin (CIFAR-100, cifar-100-binary)");
}
}  // namespace

ImageDataset load_cifar_split(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "test")
    fail(ErrorCode::InvalidArgument, "unknown CIFAR split '", split, "': use \"train\" or \"test\"");
  const Layout l = layout(dir, split);
  const int64_t record = l.label_bytes + kPixels;
  std::vector<io::ReadableFile> files;
  std::vector<std::string> paths;
  int64_t total = 0;
  for (const auto& name : l.files) {
    paths.push_back((std::filesystem::path(dir) / name).string());
    files.push_back(io::open_readable(paths.back()));
    const auto size = static_cast<int64_t>(files.back().size);
    if (size == 0 || size % record != 0) {
      fail(ErrorCode::CorruptFile, paths.back(), ": ", size, " bytes is not a whole number of ", record, "-byte CIFAR records (",
           size % record, " bytes left over); the file is truncated or not CIFAR binary");
    }
    total += size / record;
  }
  check_limit(Limit::DatasetBytes, total * (kPixels + 8), "CIFAR " + split + " split in " + dir);
  ImageDataset out;
  out.name = std::filesystem::path(dir).filename().string();
  out.num_classes = l.classes;
  out.images = torch::empty({total, 3, 32, 32}, torch::kUInt8);
  out.labels = torch::empty({total}, torch::kLong);
  uint8_t* images = out.images.data_ptr<uint8_t>();
  int64_t* labels = out.labels.data_ptr<int64_t>();
  std::vector<uint8_t> buffer;
  int64_t at = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    buffer.resize(files[f].size);
    io::read_exact(files[f], paths[f], 0, buffer.data(), buffer.size());
    for (int64_t r = 0; r < static_cast<int64_t>(files[f].size) / record; ++r, ++at) {
      const uint8_t* p = buffer.data() + r * record;
      const int64_t label = p[l.label_bytes - 1];  // CIFAR-100: the fine label, after the coarse one
      if (label >= l.classes) {
        fail(ErrorCode::CorruptFile, paths[f], ": record ", r, " (byte offset ", r * record + l.label_bytes - 1, ") has label ",
             label, ", beyond the ", l.classes, " classes");
      }
      labels[at] = label;
      std::memcpy(images + at * kPixels, p + l.label_bytes, kPixels);
    }
  }
  return out;
}

}  // namespace distillery::data

#include "data/image_folder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "core/error.h"
#include "core/limits.h"
#include "data/resize.h"
#include "io/posix_file.h"

namespace distillery::data {

namespace {
// Per worker thread, so a steady stream of images reuses the same buffers.
struct ThreadBuffers {
  DecodeScratch decode;
  DecodedRegion region;
  ResizeScratch resize;
};

ThreadBuffers& buffers() {
  thread_local ThreadBuffers b;
  return b;
}

void read_file(const std::string& path, std::vector<uint8_t>& out) {
  const io::ReadableFile file = io::open_readable(path);
  check_limit(Limit::ImageFileBytes, static_cast<int64_t>(file.size), path);
  out.resize(static_cast<size_t>(file.size));
  if (file.size > 0) io::read_exact(file, path, 0, out.data(), out.size());
}
}  // namespace

void check_transform(const FileTransform& t) {
  if (t.size < 1) fail(ErrorCode::InvalidArgument, "image size must be >= 1, got ", t.size);
  check_limit(Limit::ImageSide, std::max(t.size, t.train ? t.size : t.resize), "image transform (size and resize)");
  if (!t.train && t.resize < t.size) {
    fail(ErrorCode::InvalidArgument, "resize (", t.resize, ") must be at least the image size (", t.size, ")");
  }
  const CropRanges& r = t.ranges;
  if (!(r.scale_min > 0 && r.scale_min <= r.scale_max && r.scale_max <= 1)) {
    fail(ErrorCode::InvalidArgument, "crop scale must satisfy 0 < min <= max <= 1, got [", r.scale_min, ", ", r.scale_max, "]");
  }
  if (!(r.ratio_min > 0 && r.ratio_min <= r.ratio_max && std::isfinite(r.ratio_max))) {
    fail(ErrorCode::InvalidArgument, "crop ratio must satisfy 0 < min <= max, got [", r.ratio_min, ", ", r.ratio_max, "]");
  }
}

CropDraw draw_crop(int64_t height, int64_t width, const FileTransform& t, uint64_t seed) {
  SplitMix64 rng(seed);
  CropDraw draw;
  draw.region = random_resized_crop(height, width, t.ranges, rng);
  draw.flip = t.flip && (rng.next() >> 63) != 0;
  return draw;
}

ImageFolder::ImageFolder(std::string name, std::shared_ptr<const FileList> files, FileTransform transform,
                         std::shared_ptr<const SoftLabelCache> cache)
    : name_(std::move(name)), files_(std::move(files)), transform_(transform), cache_(std::move(cache)) {
  if (!files_ || files_->paths.empty()) fail(ErrorCode::InvalidArgument, "image dataset '", name_, "' lists no files");
  if (files_->labels.size() != files_->paths.size()) {
    fail(ErrorCode::Shape, "image dataset '", name_, "' has ", files_->paths.size(), " files but ", files_->labels.size(),
         " labels");
  }
  check_transform(transform_);
  const int64_t top = *std::max_element(files_->labels.begin(), files_->labels.end());
  num_classes_ = files_->classes.empty() ? top + 1 : static_cast<int64_t>(files_->classes.size());
  if (top >= num_classes_) {
    fail(ErrorCode::InvalidArgument, "image dataset '", name_, "': label ", top, " is out of range for ", num_classes_,
         " classes");
  }
  if (cache_) {
    if (!transform_.train)
      fail(ErrorCode::InvalidArgument, "a soft-label cache replays training crops; '", name_, "' uses the evaluation transform");
    if (cache_->samples() != size()) {
      fail(ErrorCode::InvalidArgument, "soft-label cache ", cache_->path(), " holds ", cache_->samples(), " samples, '", name_,
           "' has ", size(), ": it was made for other data");
    }
  }
}

std::string ImageFolder::fingerprint() const {
  uint64_t h = 14695981039346656037ull;
  const auto mix = [&h](const void* data, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
  };
  for (size_t i = 0; i < files_->paths.size(); ++i) {
    mix(files_->paths[i].data(), files_->paths[i].size() + 1);
    mix(&files_->labels[i], sizeof(int64_t));
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::string ImageFolder::path(int64_t index) const {
  const std::string& p = files_->paths[static_cast<size_t>(index)];
  return files_->root.empty() ? p : (std::filesystem::path(files_->root) / p).string();
}

CropDraw ImageFolder::crop_for(int64_t index, uint64_t seed) const {
  std::vector<uint8_t>& buffer = buffers().decode.file;
  const std::string file = path(index);
  read_file(file, buffer);
  const ImageInfo info = probe_image(buffer.data(), buffer.size(), file);
  return draw_crop(info.height, info.width, transform_, seed);
}

DecodeStats ImageFolder::take_stats() const { return {images_.exchange(0), bytes_.exchange(0), eighths_.exchange(0)}; }

void ImageFolder::write(int64_t index, int64_t epoch, uint64_t seed, uint8_t* dst, const SampleExtras& extras) const {
  ThreadBuffers& b = buffers();
  const std::string file = path(index);
  read_file(file, b.decode.file);
  const uint8_t* data = b.decode.file.data();
  const size_t size = b.decode.file.size();
  const FileTransform& t = transform_;

  // Filled in by the plan, which runs once the header has told the image's size.
  Region crop;
  int64_t out_height = t.size, out_width = t.size;
  Window window{0, 0, t.size, t.size};
  bool flip = false;
  const DecodePlanner plan = [&](const ImageInfo& info) -> DecodePlan {
    if (t.train && cache_) {
      const CachedCrop c =
          cache_->read(index, epoch % cache_->crops(), extras.soft_indices, extras.soft_values, extras.soft_logits);
      crop = {c.top, c.left, c.height, c.width};
      flip = c.flip;
    } else if (t.train) {
      const CropDraw draw = draw_crop(info.height, info.width, t, seed);
      crop = draw.region;
      flip = draw.flip;
    } else {
      const CenterCropGeometry g = center_crop(info.height, info.width, t.resize, t.size);
      crop = {0, 0, info.height, info.width};
      out_height = g.resized_height;
      out_width = g.resized_width;
      window = {g.top, g.left, t.size, t.size};
    }
    return {crop, out_height, out_width};
  };
  DecodedRegion& d = b.region;
  decode_region(data, size, file, plan, t.dct_scaling, b.decode, d);

  // The crop in decoded pixels: the covering whole pixels are the resize's source, so its filter
  // stops at the crop's edges as torchvision's crop-then-resize does.
  const double top = static_cast<double>(crop.top) * d.scale_y, left = static_cast<double>(crop.left) * d.scale_x;
  const double bottom = static_cast<double>(crop.top + crop.height) * d.scale_y;
  const double right = static_cast<double>(crop.left + crop.width) * d.scale_x;
  const int64_t y0 = std::max(static_cast<int64_t>(std::floor(top)), d.top);
  const int64_t x0 = std::max(static_cast<int64_t>(std::floor(left)), d.left);
  const int64_t y1 = std::min(static_cast<int64_t>(std::ceil(bottom)), d.top + d.height);
  const int64_t x1 = std::min(static_cast<int64_t>(std::ceil(right)), d.left + d.width);
  const uint8_t* src = d.pixels.data() + ((y0 - d.top) * d.width + (x0 - d.left)) * 3;
  const SourceBox box{top - static_cast<double>(y0), left - static_cast<double>(x0), bottom - static_cast<double>(y0),
                      right - static_cast<double>(x0)};
  resize_bilinear(src, y1 - y0, x1 - x0, d.width * 3, box, out_height, out_width, window, flip, b.resize, dst, extras.hwc);

  if (extras.crop != nullptr) {
    const int32_t values[5] = {static_cast<int32_t>(crop.top), static_cast<int32_t>(crop.left), static_cast<int32_t>(crop.height),
                               static_cast<int32_t>(crop.width), flip ? 1 : 0};
    std::copy(values, values + 5, extras.crop);
  }
  images_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  eighths_.fetch_add(d.eighths, std::memory_order_relaxed);
}

}  // namespace distillery::data

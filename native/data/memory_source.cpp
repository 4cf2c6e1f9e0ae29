#include <cstring>
#include <vector>

#include "core/error.h"
#include "data/augment.h"
#include "data/sample_source.h"

namespace distillery::data {

MemorySource::MemorySource(std::shared_ptr<const ImageDataset> dataset, int64_t pad, bool flip)
    : dataset_(std::move(dataset)), pad_(pad), flip_(flip) {
  if (!dataset_) fail(ErrorCode::InvalidArgument, "loader needs a dataset");
  const ImageDataset& d = *dataset_;
  if (!d.images.defined() || d.images.dim() != 4 || d.images.scalar_type() != torch::kUInt8 || !d.images.is_contiguous() ||
      !d.images.device().is_cpu()) {
    fail(ErrorCode::Shape, "loader dataset '", d.name, "' needs contiguous CPU uint8 images [N, C, H, W]");
  }
  if (!d.labels.defined() || d.labels.dim() != 1 || d.labels.scalar_type() != torch::kLong || !d.labels.is_contiguous() ||
      !d.labels.device().is_cpu() || d.labels.size(0) != d.images.size(0)) {
    fail(ErrorCode::Shape, "loader dataset '", d.name, "' needs contiguous CPU int64 labels [", d.images.size(0), "]");
  }
  if (pad_ < 0) fail(ErrorCode::InvalidArgument, "pad must be >= 0, got ", pad_);
  shape_ = {d.images.size(1), d.images.size(2), d.images.size(3)};
  labels_ = d.labels.data_ptr<int64_t>();
}

void MemorySource::write(int64_t index, int64_t epoch, uint64_t seed, uint8_t* dst, const SampleExtras& extras) const {
  const auto [channels, height, width] = shape_;
  const int64_t bytes = channels * height * width;
  const uint8_t* from = dataset_->images.data_ptr<uint8_t>() + index * bytes;
  thread_local std::vector<uint8_t> planar;
  uint8_t* chw = dst;
  if (extras.hwc) {
    planar.resize(static_cast<size_t>(bytes));
    chw = planar.data();
  }
  if (pad_ == 0 && !flip_) {
    std::memcpy(chw, from, static_cast<size_t>(bytes));
  } else {
    crop_flip(from, chw, channels, height, width, pad_, draw_crop_flip(seed, pad_, flip_));
  }
  if (!extras.hwc) return;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < height * width; ++i) dst[i * channels + c] = chw[c * height * width + i];
  }
}

}  // namespace distillery::data

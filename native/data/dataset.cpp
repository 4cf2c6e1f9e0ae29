#include "data/dataset.h"

#include <cmath>

#include "core/error.h"

namespace distillery::data {

namespace {
void check_stat(const std::vector<float>& values, const char* what, int64_t channels) {
  const auto n = static_cast<int64_t>(values.size());
  if (n != 1 && n != channels) {
    fail(ErrorCode::Shape, "normalization ", what, " has ", n, " value(s) but the images have ", channels,
         " channel(s): give 1 value or ", channels);
  }
}

// A [1, C, 1, 1] view broadcasts over the batch and the pixels; a single value broadcasts over C too.
torch::Tensor channel_stats(const std::vector<float>& values, const torch::Device& device) {
  return torch::tensor(values, torch::kFloat).to(device).view({1, -1, 1, 1});
}
}  // namespace

void check_normalization(const std::vector<float>& mean, const std::vector<float>& std, int64_t channels) {
  check_stat(mean, "mean", channels);
  check_stat(std, "std", channels);
  for (const float s : std) {
    if (s == 0.0f || !std::isfinite(s))
      fail(ErrorCode::InvalidArgument, "normalization std must be finite and non-zero, got ", s);
  }
}

torch::Tensor normalize_images(const Batch& batch, const torch::Device& device) {
  const torch::Tensor& images = batch.images;
  if (!images.defined()) fail(ErrorCode::Shape, "normalize_images got a batch without images");
  if (images.dim() != 4 || images.scalar_type() != torch::kUInt8) {
    fail(ErrorCode::Shape, "normalize_images expects uint8 images [B, C, H, W], got ", images.scalar_type(), " ", images.sizes());
  }
  check_normalization(batch.mean, batch.std, images.size(1));
  // Copy the uint8 pixels (a quarter of the float bytes) and convert on the device; the op order
  // matches torchvision's ToTensor + Normalize so results agree bit for bit.
  // From pinned memory the copy is asynchronous on the current stream, ordered before the convert.
  torch::Tensor x = images.to(device, /*non_blocking=*/images.is_pinned()).to(torch::kFloat).div_(255);
  return x.sub_(channel_stats(batch.mean, device)).div_(channel_stats(batch.std, device));
}

}  // namespace distillery::data

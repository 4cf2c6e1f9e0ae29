#include "data/crop_geometry.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace distillery::data {

namespace {
// Python's round(): halves go to the even neighbour (the default FE_TONEAREST mode of nearbyint).
int64_t round_half_even(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

// A uniform double in [0, 1) from the top 53 bits.
double uniform01(SplitMix64& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }
}  // namespace

Region random_resized_crop(int64_t height, int64_t width, const CropRanges& ranges, SplitMix64& rng) {
  const double area = static_cast<double>(height * width);
  const double log_min = std::log(ranges.ratio_min), log_max = std::log(ranges.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (ranges.scale_min + (ranges.scale_max - ranges.scale_min) * uniform01(rng));
    const double ratio = std::exp(log_min + (log_max - log_min) * uniform01(rng));
    const int64_t w = round_half_even(std::sqrt(target * ratio));
    const int64_t h = round_half_even(std::sqrt(target / ratio));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const auto top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(height - h + 1)));
      const auto left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(width - w + 1)));
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < ranges.ratio_min) {
    h = round_half_even(static_cast<double>(w) / ranges.ratio_min);
  } else if (in_ratio > ranges.ratio_max) {
    w = round_half_even(static_cast<double>(h) * ranges.ratio_max);
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

CenterCropGeometry center_crop(int64_t height, int64_t width, int64_t resize, int64_t size) {
  CenterCropGeometry g;
  // torchvision: the shorter side becomes `resize`, the other int(resize * long / short).
  if (width <= height) {
    g.resized_width = resize;
    g.resized_height =
        static_cast<int64_t>(static_cast<double>(resize) * static_cast<double>(height) / static_cast<double>(width));
  } else {
    g.resized_height = resize;
    g.resized_width =
        static_cast<int64_t>(static_cast<double>(resize) * static_cast<double>(width) / static_cast<double>(height));
  }
  if (size > g.resized_height || size > g.resized_width) {
    fail(ErrorCode::InvalidArgument, "center crop ", size, " is larger than the resized ", g.resized_height, "x", g.resized_width,
         " image (resize must be at least the crop size)");
  }
  g.top = round_half_even(static_cast<double>(g.resized_height - size) / 2.0);
  g.left = round_half_even(static_cast<double>(g.resized_width - size) / 2.0);
  return g;
}

}  // namespace distillery::data

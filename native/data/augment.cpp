#include "data/augment.h"

#include <algorithm>
#include <cstring>

#include "data/sampler.h"

namespace distillery::data {

CropFlip draw_crop_flip(uint64_t seed, int64_t pad, bool flip) {
  SplitMix64 rng(seed);
  CropFlip t;
  if (pad > 0) {
    const auto span = static_cast<uint64_t>(2 * pad + 1);
    t.top = static_cast<int64_t>(rng.below(span));
    t.left = static_cast<int64_t>(rng.below(span));
  }
  t.flip = flip && (rng.next() >> 63) != 0;
  return t;
}

void crop_flip(const uint8_t* src, uint8_t* dst, int64_t channels, int64_t height, int64_t width, int64_t pad,
               const CropFlip& t) {
  // Output (y, x) reads source (y + top - pad, x + left - pad); outside the source it is padding.
  const int64_t dy = t.top - pad;
  const int64_t dx = t.left - pad;
  const int64_t x_begin = std::clamp<int64_t>(-dx, 0, width);
  const int64_t x_end = std::clamp<int64_t>(width - dx, 0, width);
  for (int64_t c = 0; c < channels; ++c) {
    const uint8_t* plane = src + c * height * width;
    for (int64_t y = 0; y < height; ++y) {
      uint8_t* row = dst + (c * height + y) * width;
      const int64_t sy = y + dy;
      if (sy < 0 || sy >= height || x_begin >= x_end) {
        std::memset(row, 0, static_cast<size_t>(width));
        continue;
      }
      std::memset(row, 0, static_cast<size_t>(x_begin));
      std::memcpy(row + x_begin, plane + sy * width + x_begin + dx, static_cast<size_t>(x_end - x_begin));
      std::memset(row + x_end, 0, static_cast<size_t>(width - x_end));
      if (t.flip) std::reverse(row, row + width);
    }
  }
}

}  // namespace distillery::data

#pragma once
// Random crop with zero padding and horizontal flip, done with plain row copies on uint8 images:
// per sample this is a few hundred bytes of memcpy, far cheaper than a chain of LibTorch ops.
#include <cstdint>

namespace distillery::data {

/** One sample's draw: the crop's top-left corner in the padded image, and whether to mirror it. */
struct CropFlip {
  int64_t top = 0;   // in [0, 2 * pad]
  int64_t left = 0;  // in [0, 2 * pad]
  bool flip = false;
};

/** torchvision's RandomCrop(size, padding=pad) offsets then RandomHorizontalFlip(p=0.5), drawn from
 *  a sample seed (see sample_seed) so the result depends on nothing else. */
CropFlip draw_crop_flip(uint64_t seed, int64_t pad, bool flip);

/** Writes one C x H x W sample from `src` to `dst` (not overlapping), cropped at `t` from the image
 *  padded by `pad` zeros on every side, then mirrored left-right if t.flip. */
void crop_flip(const uint8_t* src, uint8_t* dst, int64_t channels, int64_t height, int64_t width, int64_t pad, const CropFlip& t);

}  // namespace distillery::data

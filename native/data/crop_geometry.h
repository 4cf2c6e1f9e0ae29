#pragma once
// Where torchvision's crops fall: RandomResizedCrop's box (its exact sampling, including the
// fallback), and Resize(shorter side) + CenterCrop for evaluation.
#include <cstdint>

#include "data/image_decode.h"
#include "data/sampler.h"

namespace distillery::data {

/** RandomResizedCrop's scale and aspect-ratio ranges. */
struct CropRanges {
  double scale_min = 0.08;
  double scale_max = 1.0;
  double ratio_min = 3.0 / 4.0;
  double ratio_max = 4.0 / 3.0;
};

/** torchvision's RandomResizedCrop.get_params: up to ten draws of area fraction (uniform) and aspect
 *  ratio (log-uniform) that fit, else the whole image clamped to the ratio range, centred. */
Region random_resized_crop(int64_t height, int64_t width, const CropRanges& ranges, SplitMix64& rng);

/** Resize(resize) then CenterCrop(size): the resized image's size and the kept window's corner. */
struct CenterCropGeometry {
  int64_t resized_height = 0;
  int64_t resized_width = 0;
  int64_t top = 0;
  int64_t left = 0;
};

/** torchvision's Resize(resize) (shorter side to `resize`, the longer truncated) and CenterCrop(size)
 *  (offsets rounded half to even, as Python's round); E_ARGUMENT when the crop exceeds the image. */
CenterCropGeometry center_crop(int64_t height, int64_t width, int64_t resize, int64_t size);

}  // namespace distillery::data

#pragma once
// Pillow's antialiased bilinear resize (what torchvision's Resize and RandomResizedCrop do to a PIL
// image), computed only for the output pixels that are kept, straight into planar uint8.
#include <cstdint>
#include <vector>

namespace distillery::data {

/** A box of the source in pixel-edge coordinates, as Pillow's resize(box=...): may be fractional. */
struct SourceBox {
  double top = 0;
  double left = 0;
  double bottom = 0;
  double right = 0;
};

/** Rows [top, top + height) and columns [left, left + width) of the resized image that are wanted. */
struct Window {
  int64_t top = 0;
  int64_t left = 0;
  int64_t height = 0;
  int64_t width = 0;
};

/** One axis's filter taps: for output i, `count[i]` weights from source index `first[i]`. */
struct AxisTaps {
  std::vector<int64_t> first;
  std::vector<int64_t> count;
  std::vector<int32_t> weights;  // count.size() x ksize, 22-bit fixed point as Pillow's
  int64_t ksize = 0;
};

/** Reusable per-thread buffers for resize_bilinear. */
struct ResizeScratch {
  AxisTaps rows;
  AxisTaps columns;
  std::vector<uint8_t> pass;
};

/** Taps of Pillow's precompute_coeffs (bilinear, support widened by the scale when shrinking) for
 *  outputs [first, first + n) of an axis resized from [in0, in1) of `in_size` pixels to `out_size`. */
void axis_taps(int64_t in_size, double in0, double in1, int64_t out_size, int64_t first, int64_t n, AxisTaps& taps);

/** Resizes `box` of the RGB HWC image `src` (height x width, rows `stride` bytes apart) to out_height x out_width as Pillow's
 *  Image.resize(BILINEAR, box) does (horizontal pass first, rounding to uint8 in between, bit for bit
 *  the same arithmetic), and writes `window` of the result to `dst` as planar 3 x window.height x
 *  window.width (or, with `hwc`, interleaved window.height x window.width x 3), mirrored left-right
 *  when `flip`. */
void resize_bilinear(const uint8_t* src, int64_t height, int64_t width, int64_t stride, const SourceBox& box, int64_t out_height,
                     int64_t out_width, const Window& window, bool flip, ResizeScratch& scratch, uint8_t* dst, bool hwc = false);

}  // namespace distillery::data

#include "data/resize.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace distillery::data {

namespace {
constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

double bilinear(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

uint8_t clip8(int32_t v) {
  if (v >= (255 << kPrecisionBits)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}
}  // namespace

void axis_taps(int64_t in_size, double in0, double in1, int64_t out_size, int64_t first, int64_t n, AxisTaps& taps) {
  const double scale = (in1 - in0) / static_cast<double>(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // the bilinear filter's support is 1
  taps.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  taps.first.resize(static_cast<size_t>(n));
  taps.count.resize(static_cast<size_t>(n));
  taps.weights.assign(static_cast<size_t>(n * taps.ksize), 0);
  std::vector<double> k(static_cast<size_t>(taps.ksize));
  for (int64_t i = 0; i < n; ++i) {
    const double center = in0 + (static_cast<double>(first + i) + 0.5) * scale;
    // Truncation toward zero, then clamping, exactly as Pillow's (int) casts.
    const int64_t xmin = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t xmax = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      k[static_cast<size_t>(x)] = bilinear((static_cast<double>(x + xmin) - center + 0.5) / filterscale);
      ww += k[static_cast<size_t>(x)];
    }
    int32_t* w = taps.weights.data() + i * taps.ksize;
    for (int64_t x = 0; x < xmax; ++x) {
      const double normalised = ww != 0.0 ? k[static_cast<size_t>(x)] / ww : k[static_cast<size_t>(x)];
      w[x] = static_cast<int32_t>(normalised < 0 ? -0.5 + normalised * (1 << kPrecisionBits)
                                                 : 0.5 + normalised * (1 << kPrecisionBits));
    }
    taps.first[static_cast<size_t>(i)] = xmin;
    taps.count[static_cast<size_t>(i)] = std::max<int64_t>(xmax, 0);
  }
}

void resize_bilinear(const uint8_t* src, int64_t height, int64_t width, int64_t stride, const SourceBox& box, int64_t out_height,
                     int64_t out_width, const Window& window, bool flip, ResizeScratch& scratch, uint8_t* dst, bool hwc) {
  if (out_height < 1 || out_width < 1 || window.top < 0 || window.left < 0 || window.height < 1 || window.width < 1 ||
      window.top + window.height > out_height || window.left + window.width > out_width) {
    fail(ErrorCode::InvalidArgument, "resize window ", window.height, "x", window.width, " at (", window.top, ", ", window.left,
         ") does not fit the ", out_height, "x", out_width, " output");
  }
  AxisTaps& rows = scratch.rows;
  AxisTaps& cols = scratch.columns;
  axis_taps(height, box.top, box.bottom, out_height, window.top, window.height, rows);
  axis_taps(width, box.left, box.right, out_width, window.left, window.width, cols);

  // The source rows the vertical pass reads; only those go through the horizontal pass.
  const int64_t row_first = rows.first.front();
  const int64_t row_last = rows.first.back() + rows.count.back();
  const int64_t pass_rows = row_last - row_first, cols_out = window.width;
  scratch.pass.resize(static_cast<size_t>(pass_rows * cols_out * 3));
  for (int64_t y = 0; y < pass_rows; ++y) {
    const uint8_t* in = src + (row_first + y) * stride;
    uint8_t* out = scratch.pass.data() + y * cols_out * 3;
    for (int64_t x = 0; x < cols_out; ++x) {
      const uint8_t* p = in + cols.first[static_cast<size_t>(x)] * 3;
      const int32_t* w = cols.weights.data() + x * cols.ksize;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int64_t t = 0, n = cols.count[static_cast<size_t>(x)]; t < n; ++t, p += 3) {
        s0 += p[0] * w[t];
        s1 += p[1] * w[t];
        s2 += p[2] * w[t];
      }
      out[x * 3] = clip8(s0);
      out[x * 3 + 1] = clip8(s1);
      out[x * 3 + 2] = clip8(s2);
    }
  }

  const int64_t plane = window.height * cols_out;
  for (int64_t y = 0; y < window.height; ++y) {
    const int64_t from = rows.first[static_cast<size_t>(y)] - row_first, n = rows.count[static_cast<size_t>(y)];
    const int32_t* w = rows.weights.data() + y * rows.ksize;
    uint8_t* r = dst + y * cols_out;
    for (int64_t x = 0; x < cols_out; ++x) {
      const uint8_t* p = scratch.pass.data() + from * cols_out * 3 + x * 3;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int64_t t = 0; t < n; ++t, p += cols_out * 3) {
        s0 += p[0] * w[t];
        s1 += p[1] * w[t];
        s2 += p[2] * w[t];
      }
      const int64_t at = flip ? cols_out - 1 - x : x;
      if (hwc) {
        uint8_t* px = dst + (y * cols_out + at) * 3;
        px[0] = clip8(s0);
        px[1] = clip8(s1);
        px[2] = clip8(s2);
      } else {
        r[at] = clip8(s0);
        r[plane + at] = clip8(s1);
        r[2 * plane + at] = clip8(s2);
      }
    }
  }
}

}  // namespace distillery::data

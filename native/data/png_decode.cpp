// PNG through libpng's simplified API: any bit depth, palette, grayscale or alpha comes out as
// 8-bit RGBA, and the alpha is dropped as Pillow's convert("RGB") drops it. PNG has no cheap
// partial decode, so the whole image is decoded and the region copied out.
#include <algorithm>
#include <cstring>

#include <png.h>

#include "core/error.h"
#include "data/image_codecs.h"

namespace distillery::data {

namespace {
class PngImage {
 public:
  PngImage(const uint8_t* data, size_t size, const std::string& name) {
    image_.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image_, data, size)) {
      fail(ErrorCode::CorruptFile, name, ": corrupt PNG (", image_.message, ")");
    }
  }
  ~PngImage() { png_image_free(&image_); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;

  png_image& get() { return image_; }

 private:
  png_image image_{};
};
}  // namespace

ImageInfo probe_png(const uint8_t* data, size_t size, const std::string& name) {
  PngImage png(data, size, name);
  return {ImageFormat::Png, static_cast<int64_t>(png.get().height), static_cast<int64_t>(png.get().width)};
}

void decode_png(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, DecodeScratch& scratch,
                DecodedRegion& out) {
  PngImage png(data, size, name);
  png_image& image = png.get();
  image.format = PNG_FORMAT_RGBA;
  const int64_t height = image.height, width = image.width;
  const Region region = plan({ImageFormat::Png, height, width}).region;
  scratch.rows.resize(static_cast<size_t>(height * width * 4));
  if (!png_image_finish_read(&image, nullptr, scratch.rows.data(), 0, nullptr)) {
    fail(ErrorCode::CorruptFile, name, ": corrupt PNG (", image.message, ")");
  }
  const int64_t top = std::clamp<int64_t>(region.top, 0, height), left = std::clamp<int64_t>(region.left, 0, width);
  const int64_t rows = std::min(region.top + region.height, height) - top;
  const int64_t columns = std::min(region.left + region.width, width) - left;
  if (rows <= 0 || columns <= 0) {
    fail(ErrorCode::InvalidArgument, name, ": region ", region.height, "x", region.width, " at (", region.top, ", ", region.left,
         ") lies outside the ", height, "x", width, " image");
  }
  out.pixels.resize(static_cast<size_t>(rows * columns * 3));
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* in = scratch.rows.data() + ((top + y) * width + left) * 4;
    uint8_t* to = out.pixels.data() + y * columns * 3;
    for (int64_t x = 0; x < columns; ++x, in += 4, to += 3) std::memcpy(to, in, 3);
  }
  out.height = rows;
  out.width = columns;
  out.scale_y = out.scale_x = 1.0;
  out.top = top;
  out.left = left;
  out.eighths = 8;
}

}  // namespace distillery::data

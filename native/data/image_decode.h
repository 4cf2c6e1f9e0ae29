#pragma once
// Decoding one encoded image (JPEG through libjpeg-turbo, PNG through libpng, told apart by their
// first bytes, never by the file name) into RGB pixels: the whole image, or only a region of it at
// the smallest JPEG DCT scale that still holds enough pixels for the output.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace distillery::data {

enum class ImageFormat { Jpeg, Png };

/** The format and full-resolution size of an encoded image, read from its header only. */
struct ImageInfo {
  ImageFormat format = ImageFormat::Jpeg;
  int64_t height = 0;
  int64_t width = 0;
};

/** Rows [top, top + height) and columns [left, left + width) of the full-resolution image. */
struct Region {
  int64_t top = 0;
  int64_t left = 0;
  int64_t height = 0;
  int64_t width = 0;
};

/** RGB pixels (rows x columns x 3, uint8) that cover a requested region, possibly scaled down. */
struct DecodedRegion {
  std::vector<uint8_t> pixels;
  int64_t height = 0;
  int64_t width = 0;
  // Decoded pixels per full-resolution pixel along each axis (1 without DCT scaling).
  double scale_y = 1.0;
  double scale_x = 1.0;
  // Where pixels[0] sits in the scaled image, in whole scaled pixels.
  int64_t top = 0;
  int64_t left = 0;
  // The DCT scale used, in eighths (8 = full resolution).
  int eighths = 8;
};

/** What to decode: a region of the full-resolution image, and the size it must still cover once scaled. */
struct DecodePlan {
  Region region;
  int64_t min_height = 0;
  int64_t min_width = 0;
};

/** Chooses the plan from the image's size, once its header is read and before any pixel is decoded. */
using DecodePlanner = std::function<DecodePlan(const ImageInfo&)>;

/** Reusable per-thread buffers, so decoding many images does not allocate for each one. */
struct DecodeScratch {
  std::vector<uint8_t> file;
  std::vector<uint8_t> rows;
};

/** Reads the header of `data`; E_CORRUPT_FILE naming `name` when it is neither a JPEG nor a PNG, or
 *  when the header is malformed. */
ImageInfo probe_image(const uint8_t* data, size_t size, const std::string& name);

/** Decodes the region `plan` chooses (clamped to the image) of `data` into `out`, reading the header
 *  once. With `dct_scaling`, a JPEG is decoded at the smallest scale in {1/8, 1/4, 1/2, 1} whose scaled
 *  region is still at least the plan's min_height x min_width; otherwise, and for PNG, at full
 *  resolution. Grayscale is replicated to RGB; CMYK and YCCK are converted as Pillow's
 *  convert("RGB") does. E_CORRUPT_FILE naming `name` for a corrupt or truncated file. */
void decode_region(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, bool dct_scaling,
                   DecodeScratch& scratch, DecodedRegion& out);

}  // namespace distillery::data

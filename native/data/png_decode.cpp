// PNG through libpng's row API: palette, grayscale, 16-bit and alpha come out as 8-bit RGB (the
// alpha dropped, 16-bit samples cut to their high byte, no gamma applied), as Pillow's
// convert("RGB") makes them. Only the rows a region needs are kept: a plain PNG is read row by row
// and reading stops below the region; an interlaced one needs every pass, so the region's rows
// are kept at full width while the rest go through one scratch row.
#include <algorithm>
#include <csetjmp>
#include <cstring>

#include <png.h>

#include "core/error.h"
#include "core/limits.h"
#include "data/image_codecs.h"

namespace distillery::data {

namespace {
struct Input {
  const uint8_t* data;
  size_t size;
  size_t at;
};

struct Failure {
  char message[256];
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* failure = static_cast<Failure*>(png_get_error_ptr(png));
  std::snprintf(failure->message, sizeof(failure->message), "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_input(png_structp png, png_bytep to, size_t n) {
  auto* in = static_cast<Input*>(png_get_io_ptr(png));
  if (n > in->size - in->at) png_error(png, "the data ends before the image does (truncated)");
  std::memcpy(to, in->data + in->at, n);
  in->at += n;
}

// Owns libpng's read and info structs.
class PngReader {
 public:
  PngReader(const uint8_t* data, size_t size) : input_{data, size, 0} {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure_, on_error, on_warning);
    if (png_ != nullptr) info_ = png_create_info_struct(png_);
    if (png_ == nullptr || info_ == nullptr) throw std::bad_alloc();
    png_set_read_fn(png_, &input_, read_input);
  }
  ~PngReader() { png_destroy_read_struct(&png_, &info_, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;

  png_structp png() { return png_; }
  png_infop info() { return info_; }
  const char* message() const { return failure_.message; }

  /** Reads the header: E_CORRUPT_FILE naming `name` when it is malformed, E_LIMIT when it claims too many pixels. */
  ImageInfo read_info(const std::string& name) {
    if (setjmp(png_jmpbuf(png_))) fail(ErrorCode::CorruptFile, name, ": corrupt PNG (", message(), ")");
    png_read_info(png_, info_);
    const auto height = static_cast<int64_t>(png_get_image_height(png_, info_));
    const auto width = static_cast<int64_t>(png_get_image_width(png_, info_));
    check_limit(Limit::ImagePixels, height * width, name + " (" + std::to_string(width) + "x" + std::to_string(height) + " PNG)");
    return {ImageFormat::Png, height, width};
  }

 private:
  Input input_;
  Failure failure_{};
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

}  // namespace

ImageInfo probe_png(const uint8_t* data, size_t size, const std::string& name) { return PngReader(data, size).read_info(name); }

void decode_png(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, DecodeScratch& scratch,
                DecodedRegion& out) {
  PngReader reader(data, size);
  png_structp png = reader.png();
  png_infop info = reader.info();
  const ImageInfo header = reader.read_info(name);
  const int64_t height = header.height, width = header.width;
  // Everything with a destructor exists before this point: libpng's errors longjmp back here.
  if (setjmp(png_jmpbuf(png))) fail(ErrorCode::CorruptFile, name, ": corrupt PNG (", reader.message(), ")");
  const Region r = plan({ImageFormat::Png, height, width}).region;
  const int64_t top = std::clamp<int64_t>(r.top, 0, height), left = std::clamp<int64_t>(r.left, 0, width);
  const int64_t rows = std::min(r.top + r.height, height) - top;
  const int64_t columns = std::min(r.left + r.width, width) - left;
  if (rows <= 0 || columns <= 0) {
    fail(ErrorCode::InvalidArgument, name, ": region ", r.height, "x", r.width, " at (", r.top, ", ", r.left,
         ") lies outside the ", height, "x", width, " image");
  }

  const int color = png_get_color_type(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(width) * 3) {
    fail(ErrorCode::CorruptFile, name, ": corrupt PNG (rows of ", png_get_rowbytes(png, info), " bytes after conversion to RGB)");
  }

  const size_t row_bytes = static_cast<size_t>(width) * 3;
  // An interlaced image's later passes fill in rows its earlier ones began, so kept rows stay whole.
  const int64_t kept = passes > 1 ? rows : 0;
  scratch.rows.resize(row_bytes * static_cast<size_t>(kept + 1));
  out.pixels.resize(static_cast<size_t>(rows * columns * 3));
  uint8_t* spare = scratch.rows.data() + row_bytes * static_cast<size_t>(kept);
  const int64_t last = passes > 1 ? height : top + rows;
  for (int pass = 0; pass < passes; ++pass) {
    for (int64_t y = 0; y < last; ++y) {
      const bool inside = y >= top && y < top + rows;
      uint8_t* row = inside && kept > 0 ? scratch.rows.data() + row_bytes * static_cast<size_t>(y - top) : spare;
      png_read_row(png, row, nullptr);
      if (inside && kept == 0) std::memcpy(out.pixels.data() + (y - top) * columns * 3, row + left * 3, columns * 3);
    }
  }
  for (int64_t y = 0; y < kept; ++y) {
    std::memcpy(out.pixels.data() + y * columns * 3, scratch.rows.data() + row_bytes * static_cast<size_t>(y) + left * 3,
                columns * 3);
  }
  out.height = rows;
  out.width = columns;
  out.scale_y = out.scale_x = 1.0;
  out.top = top;
  out.left = left;
  out.eighths = 8;
}

}  // namespace distillery::data

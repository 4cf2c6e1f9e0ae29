// JPEG through libjpeg's own API (Debian's libjpeg-turbo 2.1 has no tj3 cropping calls): scaled
// IDCT, jpeg_crop_scanline for the columns and jpeg_skip_scanlines for the rows above the region,
// and no work at all below it.
#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>

#include <jerror.h>
#include <jpeglib.h>

#include "core/error.h"
#include "core/limits.h"
#include "data/image_codecs.h"

namespace distillery::data {

namespace {
// libjpeg reports fatal errors through error_exit, which must not return: it longjmps back to the
// frame that called into libjpeg (throwing through C frames is not something to rely on).
struct ErrorManager {
  jpeg_error_mgr pub;  // first, so libjpeg's pointer to it is a pointer to the whole struct
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
  int64_t scans;  // the scan count that went over the limit, once one has
};

// A progressive JPEG may hold any number of scans, each a pass over the whole image, so a small
// file can cost minutes of decoding; libjpeg reports each scan to the progress monitor.
struct ScanLimit {
  jpeg_progress_mgr pub;  // first, as for ErrorManager
  int64_t max_scans;
};

constexpr int kLimitJump = 2;

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings about damaged entropy data are ignored, as Pillow ignores them; running out of data is not.
void on_message(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) reinterpret_cast<ErrorManager*>(cinfo->err)->truncated = true;
}

void on_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  const auto* limit = reinterpret_cast<ScanLimit*>(cinfo->progress);
  if (d->input_scan_number > limit->max_scans) {
    auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
    errors->scans = d->input_scan_number;
    std::longjmp(errors->jump, kLimitJump);
  }
}

class Decompressor {
 public:
  Decompressor() {
    cinfo.err = jpeg_std_error(&errors.pub);
    errors.pub.error_exit = on_error;
    errors.pub.emit_message = on_message;
    scans.pub.progress_monitor = on_progress;
    scans.max_scans = limit(Limit::JpegScans);
  }

  /** jpeg_create_decompress, which clears every field but the error manager, then the scan limit. */
  void create() {
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &scans.pub;
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  jpeg_decompress_struct cinfo{};
  ErrorManager errors{};
  ScanLimit scans{};
};

void check_pixels(const jpeg_decompress_struct& cinfo, const std::string& name) {
  check_limit(Limit::ImagePixels, static_cast<int64_t>(cinfo.image_height) * static_cast<int64_t>(cinfo.image_width),
              name + " (" + std::to_string(cinfo.image_width) + "x" + std::to_string(cinfo.image_height) + " JPEG)");
}

[[noreturn]] void fail_jump(bool scans, const ErrorManager& errors, const std::string& name, const char* what) {
  if (scans) check_limit(Limit::JpegScans, errors.scans, name + " (progressive JPEG)");
  fail(ErrorCode::CorruptFile, name, ": ", what, " (", errors.message, ")");
}

// Pillow reads CMYK JPEGs as Adobe-inverted ("CMYK;I") and converts with
// R = (255 - K) - (C * (255 - K)) / 255, rounded as its MULDIV255; on the stored values that is this.
uint8_t muldiv255(int a, int b) {
  const int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

void cmyk_to_rgb(const uint8_t* in, uint8_t* out, int64_t width) {
  for (int64_t x = 0; x < width; ++x, in += 4, out += 3) {
    const int nk = in[3];
    for (int c = 0; c < 3; ++c) out[c] = static_cast<uint8_t>(nk - muldiv255(255 - in[c], nk));
  }
}

Region clamp(const Region& r, int64_t height, int64_t width, const std::string& name) {
  Region c;
  c.top = std::clamp<int64_t>(r.top, 0, height);
  c.left = std::clamp<int64_t>(r.left, 0, width);
  c.height = std::min(r.top + r.height, height) - c.top;
  c.width = std::min(r.left + r.width, width) - c.left;
  if (c.height <= 0 || c.width <= 0) {
    fail(ErrorCode::InvalidArgument, name, ": region ", r.height, "x", r.width, " at (", r.top, ", ", r.left,
         ") lies outside the ", height, "x", width, " image");
  }
  return c;
}
}  // namespace

ImageInfo probe_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  Decompressor d;
  switch (setjmp(d.errors.jump)) {
    case 0:
      break;
    case kLimitJump:
      fail_jump(true, d.errors, name, "corrupt JPEG header");
    default:
      fail_jump(false, d.errors, name, "corrupt JPEG header");
  }
  d.create();
  jpeg_mem_src(&d.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&d.cinfo, TRUE);
  check_pixels(d.cinfo, name);
  return {ImageFormat::Jpeg, static_cast<int64_t>(d.cinfo.image_height), static_cast<int64_t>(d.cinfo.image_width)};
}

void decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, bool dct_scaling,
                 DecodeScratch& scratch, DecodedRegion& out) {
  Decompressor d;
  jpeg_decompress_struct& cinfo = d.cinfo;
  // Nothing with a destructor is created between here and the last libjpeg call.
  switch (setjmp(d.errors.jump)) {
    case 0:
      break;
    case kLimitJump:
      fail_jump(true, d.errors, name, "corrupt JPEG");
    default:
      fail_jump(false, d.errors, name, "corrupt JPEG");
  }
  d.create();
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  check_pixels(cinfo, name);
  const auto height = static_cast<int64_t>(cinfo.image_height), width = static_cast<int64_t>(cinfo.image_width);
  const DecodePlan p = plan({ImageFormat::Jpeg, height, width});
  const Region r = clamp(p.region, height, width, name);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg-turbo replicates grayscale into RGB itself

  int eighths = 8;
  if (dct_scaling) {
    for (const int e : {1, 2, 4}) {
      if (r.height * e >= p.min_height * 8 && r.width * e >= p.min_width * 8) {
        eighths = e;
        break;
      }
    }
  }
  cinfo.scale_num = static_cast<unsigned>(eighths);
  cinfo.scale_denom = 8;
  jpeg_start_decompress(&cinfo);

  const auto scaled_height = static_cast<int64_t>(cinfo.output_height);
  const auto scaled_width = static_cast<int64_t>(cinfo.output_width);
  // Each 8x8 block becomes an eighths x eighths block, so full-resolution coordinates scale by exactly
  // eighths/8 (the last scaled row and column may cover only part of a block).
  const double sy = eighths / 8.0, sx = eighths / 8.0;
  const auto y0 = static_cast<JDIMENSION>(std::floor(static_cast<double>(r.top) * sy));
  const auto y1 = static_cast<JDIMENSION>(
      std::min<double>(static_cast<double>(scaled_height), std::ceil(static_cast<double>(r.top + r.height) * sy)));
  auto x0 = static_cast<JDIMENSION>(std::floor(static_cast<double>(r.left) * sx));
  auto columns = static_cast<JDIMENSION>(
      std::min<double>(static_cast<double>(scaled_width), std::ceil(static_cast<double>(r.left + r.width) * sx)) - x0);
  // Moves x0 down to an iMCU boundary and widens the span to match.
  if (columns < cinfo.output_width) jpeg_crop_scanline(&cinfo, &x0, &columns);
  if (y0 > 0) jpeg_skip_scanlines(&cinfo, y0);

  const int64_t rows = y1 - y0, row_bytes = static_cast<int64_t>(columns) * 3;
  out.pixels.resize(static_cast<size_t>(rows * row_bytes));
  if (cmyk) scratch.rows.resize(static_cast<size_t>(columns) * 4);
  while (cinfo.output_scanline < y1) {
    const int64_t at = cinfo.output_scanline - y0;
    JSAMPROW row = cmyk ? scratch.rows.data() : out.pixels.data() + at * row_bytes;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) cmyk_to_rgb(scratch.rows.data(), out.pixels.data() + at * row_bytes, columns);
  }
  if (d.errors.truncated) {
    fail(ErrorCode::CorruptFile, name, ": truncated JPEG (the data ends before the image does; ", size, " bytes in the file)");
  }
  out.height = rows;
  out.width = columns;
  out.scale_y = sy;
  out.scale_x = sx;
  out.top = y0;
  out.left = x0;
  out.eighths = eighths;
}

}  // namespace distillery::data

#include "data/image_decode.h"

#include <cstring>

#include "core/error.h"
#include "data/image_codecs.h"

namespace distillery::data {

namespace {
// ImageNet holds a PNG named .JPEG, so the format comes from the signature, not the extension.
ImageFormat sniff(const uint8_t* data, size_t size, const std::string& name) {
  static constexpr uint8_t jpeg[] = {0xFF, 0xD8, 0xFF};
  static constexpr uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= sizeof(jpeg) && std::memcmp(data, jpeg, sizeof(jpeg)) == 0) return ImageFormat::Jpeg;
  if (size >= sizeof(png) && std::memcmp(data, png, sizeof(png)) == 0) return ImageFormat::Png;
  fail(ErrorCode::CorruptFile, name, ": not a JPEG or PNG image (", size == 0 ? "the file is empty" : "unknown signature",
       "); only JPEG and PNG files are read");
}
}  // namespace

ImageInfo probe_image(const uint8_t* data, size_t size, const std::string& name) {
  return sniff(data, size, name) == ImageFormat::Jpeg ? probe_jpeg(data, size, name) : probe_png(data, size, name);
}

void decode_region(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, bool dct_scaling,
                   DecodeScratch& scratch, DecodedRegion& out) {
  if (sniff(data, size, name) == ImageFormat::Jpeg) {
    decode_jpeg(data, size, name, plan, dct_scaling, scratch, out);
  } else {
    decode_png(data, size, name, plan, scratch, out);
  }
}

}  // namespace distillery::data

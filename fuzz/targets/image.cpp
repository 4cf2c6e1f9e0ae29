// JPEG and PNG decoding: the header probe, then decodes of the whole image and of a crop chosen from
// the fuzzer's first bytes, with and without DCT scaling.
#include <cstddef>
#include <cstdint>

#include "core/limits.h"
#include "data/image_decode.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distillery;
  // Small images only: the limit is what keeps a claimed 65500x65500 frame from being decoded.
  static const bool limited = (set_limit(Limit::ImagePixels, 1 << 22), set_limit(Limit::JpegScans, 64), true);
  (void)limited;
  if (size < 2) return 0;
  const uint8_t shape = data[0];
  data += 1;
  size -= 1;
  data::DecodeScratch scratch;
  data::DecodedRegion out;
  fuzz::expect_clean([&] { data::probe_image(data, size, "input"); });
  const auto plan = [shape](const data::ImageInfo& info) {
    data::DecodePlan p;
    // A quarter of the inputs decode everything, the rest a crop placed by the shape byte.
    if ((shape & 3) == 0) {
      p.region = {0, 0, info.height, info.width};
    } else {
      p.region = {info.height * (shape >> 4) / 16, info.width * ((shape >> 2) & 3) / 4, info.height / 2 + 1, info.width / 3 + 1};
    }
    p.min_height = p.min_width = 1 + (shape & 15);
    return p;
  };
  fuzz::expect_clean([&] { data::decode_region(data, size, "input", plan, (shape & 1) != 0, scratch, out); });
  return 0;
}

#pragma once
// The two decoders behind image_decode.h; callers use probe_image and decode_region instead.
#include "data/image_decode.h"

namespace distillery::data {

ImageInfo probe_jpeg(const uint8_t* data, size_t size, const std::string& name);
void decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const Region& region, int64_t min_height,
                 int64_t min_width, bool dct_scaling, DecodeScratch& scratch, DecodedRegion& out);

ImageInfo probe_png(const uint8_t* data, size_t size, const std::string& name);
void decode_png(const uint8_t* data, size_t size, const std::string& name, const Region& region, DecodeScratch& scratch,
                DecodedRegion& out);

}  // namespace distillery::data

#pragma once
// The two decoders behind image_decode.h; callers use probe_image and decode_region instead.
#include "data/image_decode.h"

namespace distillery::data {

ImageInfo probe_jpeg(const uint8_t* data, size_t size, const std::string& name);
void decode_jpeg(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, bool dct_scaling,
                 DecodeScratch& scratch, DecodedRegion& out);

ImageInfo probe_png(const uint8_t* data, size_t size, const std::string& name);
void decode_png(const uint8_t* data, size_t size, const std::string& name, const DecodePlanner& plan, DecodeScratch& scratch,
                DecodedRegion& out);

}  // namespace distillery::data

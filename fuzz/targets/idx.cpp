// IDX files, raw and gzip (zlib tells them apart by the bytes, as in use), with one and three dimensions.
#include <cstddef>
#include <cstdint>

#include "core/limits.h"
#include "data/idx.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distillery;
  static const bool limited = (set_limit(Limit::DatasetBytes, 4 << 20), true);
  (void)limited;
  const std::string path = fuzz::write_file("data-idx3-ubyte.gz", data, size);
  fuzz::expect_clean([&] { data::read_idx(path, 3); });
  fuzz::expect_clean([&] { data::read_idx(path, 1); });
  return 0;
}

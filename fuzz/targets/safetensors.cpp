// safetensors files (weights and checkpoints): the full reader and the metadata-only reader.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distillery;
  const std::string path = fuzz::write_file("weights.safetensors", data, size);
  fuzz::expect_clean([&] { io::read_safetensors(path); });
  fuzz::expect_clean([&] { io::read_safetensors_metadata(path); });
  return 0;
}

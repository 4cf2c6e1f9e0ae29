// path,label list files.
#include <cstddef>
#include <cstdint>

#include "data/file_list.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = distillery::fuzz::write_file("list.csv", data, size);
  distillery::fuzz::expect_clean([&] { distillery::data::read_file_list(path, "/nonexistent-root"); });
  return 0;
}

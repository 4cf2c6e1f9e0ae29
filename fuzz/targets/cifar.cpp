// CIFAR binary files: a test split of CIFAR-10 (1-byte labels) and of CIFAR-100 (2-byte labels).
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "data/cifar.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distillery;
  namespace fs = std::filesystem;
  for (const char* layout : {"cifar10", "cifar100"}) {
    const fs::path dir = fs::path(fuzz::scratch()) / layout;
    fs::create_directories(dir);
    const bool ten = layout == std::string("cifar10");
    fuzz::write_file(std::string(layout) + (ten ? "/test_batch.bin" : "/test.bin"), data, size);
    fuzz::expect_clean([&] { data::load_cifar_split(dir.string(), "test"); });
  }
  return 0;
}

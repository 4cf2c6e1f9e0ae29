// Soft-label caches: the header and layout checks, then reads of the first and last records.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/soft_label_cache.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distillery;
  const std::string path = fuzz::write_file("soft.cache", data, size);
  fuzz::expect_clean([&] {
    const data::SoftLabelCache cache(path);
    // A cache that passed its checks must read every record it claims without a fault.
    if (cache.top_k() > 4096 || cache.num_classes() > 4096) return;
    std::vector<int64_t> classes(static_cast<size_t>(cache.top_k()));
    std::vector<float> probabilities(classes.size()), logits(static_cast<size_t>(cache.num_classes()));
    for (const int64_t i : {int64_t{0}, cache.samples() - 1}) {
      for (const int64_t k : {int64_t{0}, cache.crops() - 1}) {
        cache.read(i, k, classes.data(), probabilities.data(), cache.has_logits() ? logits.data() : nullptr);
      }
    }
  });
  return 0;
}

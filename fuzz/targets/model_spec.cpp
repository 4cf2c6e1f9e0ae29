// Architecture specs (found.json, checkpoint metadata): JSON to ModelSpec, and back to the same spec.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "models/net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distillery;
  const nlohmann::json value = nlohmann::json::parse(data, data + size, nullptr, false);
  if (value.is_discarded()) return 0;
  fuzz::expect_clean([&] {
    const models::ModelSpec spec = models::spec_from_json(value, "spec");
    const models::ModelSpec again = models::spec_from_json(models::spec_to_json(spec), "spec");
    if (again.arch != spec.arch || again.in_channels != spec.in_channels || again.num_classes != spec.num_classes ||
        again.branches != spec.branches || again.blocks != spec.blocks || again.gated != spec.gated) {
      std::abort();  // a spec that does not survive its own round trip
    }
  });
  return 0;
}

// The JSON spelling of a ModelSpec, read and written in one place.
#include "core/error.h"
#include "core/settings.h"
#include "models/net.h"

namespace distillery::models {

ModelSpec spec_from_json(const nlohmann::json& value, const std::string& context) {
  const Settings s(value, context);
  ModelSpec spec;
  spec.arch = s.string("arch");
  spec.in_channels = s.integer("inChannels", spec.in_channels);
  spec.num_classes = s.integer("numClasses", spec.num_classes);
  spec.branches = s.integer("branches", spec.branches);
  spec.gated = s.boolean("gated", spec.gated);
  if (s.has("blocks")) {
    const nlohmann::json& blocks = s.json()["blocks"];
    if (!blocks.is_array()) fail(ErrorCode::InvalidArgument, context, ".blocks must be an array of arrays of integers");
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Settings stage(nlohmann::json{{"widths", blocks[i]}}, context + ".blocks[" + std::to_string(i) + "]");
      spec.blocks.push_back(stage.integers("widths"));
    }
  }
  return spec;
}

nlohmann::json spec_to_json(const ModelSpec& spec) {
  return {{"arch", spec.arch},         {"inChannels", spec.in_channels}, {"numClasses", spec.num_classes},
          {"branches", spec.branches}, {"blocks", spec.blocks},          {"gated", spec.gated}};
}

}  // namespace distillery::models

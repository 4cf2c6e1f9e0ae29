#include "objectives/registry.h"

#include <utility>

#include "core/error.h"
#include "train/trainer.h"

namespace distillery::objectives {

using Factory = std::unique_ptr<train::Objective> (*)(const train::ObjectiveSetup&);

#define DISTILLERY_OBJECTIVE(name, factory) std::unique_ptr<train::Objective> factory(const train::ObjectiveSetup&);
#include "objectives/objectives.def"
#undef DISTILLERY_OBJECTIVE

namespace {
const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> entries{
#define DISTILLERY_OBJECTIVE(name, factory) {name, factory},
#include "objectives/objectives.def"
#undef DISTILLERY_OBJECTIVE
  };
  return entries;
}
}  // namespace

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& entry : registry()) out.push_back(entry.first);
  return out;
}

std::unique_ptr<train::Objective> make(const std::string& name, train::ObjectiveSetup setup) {
  if (!setup.trainer) fail(ErrorCode::InvalidArgument, "an objective needs the trainer it steps with");
  for (const auto& model : setup.models) {
    if (model == setup.trainer->student()) fail(ErrorCode::InvalidArgument, "the student cannot also be one of its teachers");
  }
  for (const auto& [registered, factory] : registry()) {
    if (registered != name) continue;
    std::unique_ptr<train::Objective> objective = factory(setup);
    objective->set_owner(setup.trainer.get());
    return objective;
  }
  std::string known;
  for (const auto& entry : registry()) known += (known.empty() ? "" : ", ") + entry.first;
  fail(ErrorCode::InvalidArgument, "no objective named '", name, "'; the objectives are ", known);
}

}  // namespace distillery::objectives

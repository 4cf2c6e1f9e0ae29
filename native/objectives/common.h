#pragma once
// Small pieces several objectives share: how many frozen models an objective accepts.
#include <cstddef>
#include <string>

#include "train/objective.h"

namespace distillery::objectives {

/** E_ARGUMENT unless `setup` holds between `min` and `max` models; `role` names them ("teacher"). */
void require_models(const train::ObjectiveSetup& setup, const std::string& objective, size_t min, size_t max,
                    const std::string& role);

}  // namespace distillery::objectives

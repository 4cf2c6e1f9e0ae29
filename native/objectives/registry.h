#pragma once
// Objectives by name: the only place that knows which methods exist on the C++ side.
#include <memory>
#include <string>
#include <vector>

#include "train/objective.h"

namespace distillery::objectives {

/** The objective registered as `name`, built for `setup.trainer`; E_ARGUMENT lists the names when unknown. */
std::unique_ptr<train::Objective> make(const std::string& name, train::ObjectiveSetup setup);

/** Every registered name, in registration order. */
std::vector<std::string> names();

}  // namespace distillery::objectives

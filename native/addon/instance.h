#pragma once
// Per-environment state of the addon (worker threads each load their own copy of the module).
#include <napi.h>

#include <memory>

#include "addon/live_handles.h"

namespace distillery::addon {

struct Instance {
  Napi::FunctionReference error_class;
  Napi::FunctionReference model_class;
  Napi::FunctionReference dataset_class;
  Napi::FunctionReference batch_class;
  Napi::FunctionReference trainer_class;
  Napi::FunctionReference objective_class;
  Napi::FunctionReference process_group_class;
  Napi::FunctionReference soft_label_writer_class;
  std::shared_ptr<LiveCounts> live = std::make_shared<LiveCounts>();
};

/** The state of `env`, created on first use. */
Instance& instance(Napi::Env env);

}  // namespace distillery::addon

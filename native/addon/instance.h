#pragma once
// Per-environment state of the addon (worker threads each load their own copy of the module).
#include <napi.h>

namespace distillery::addon {

struct Instance {
  Napi::FunctionReference error_class;
  Napi::FunctionReference model_class;
  Napi::FunctionReference dataset_class;
  Napi::FunctionReference batch_class;
  Napi::FunctionReference trainer_class;
  Napi::FunctionReference process_group_class;
};

/** The state of `env`, created on first use. */
Instance& instance(Napi::Env env);

}  // namespace distillery::addon

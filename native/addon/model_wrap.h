#pragma once
#include <napi.h>

#include "addon/live_handles.h"

#include "train/model_handle.h"

namespace distillery::addon {

/** JS class Model: a network of the zoo on a device. */
class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  /** The model behind a JS Model argument (E_ARGUMENT if it is not one, E_DISPOSED if disposed). */
  static train::ModelPtr unwrap(Napi::Value value, const std::string& name);

  explicit ModelWrap(const Napi::CallbackInfo& info);

 private:
  const train::ModelPtr& handle() const;
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value forward(const Napi::CallbackInfo& info);
  Napi::Value features(const Napi::CallbackInfo& info);
  Napi::Value one_outputs(const Napi::CallbackInfo& info);
  Napi::Value copy_branch(const Napi::CallbackInfo& info);
  Napi::Value flops(const Napi::CallbackInfo& info);
  Napi::Value to_channels_last(const Napi::CallbackInfo& info);
  Napi::Value gate_values(const Napi::CallbackInfo& info);
  Napi::Value gate_names(const Napi::CallbackInfo& info);
  Napi::Value plan_subnet(const Napi::CallbackInfo& info);
  Napi::Value extract_subnet(const Napi::CallbackInfo& info);
  Napi::Value state_shapes(const Napi::CallbackInfo& info);
  Napi::Value save_safetensors(const Napi::CallbackInfo& info);
  Napi::Value load_safetensors(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  train::ModelPtr model_;
  LiveHandle live_;
};

}  // namespace distillery::addon

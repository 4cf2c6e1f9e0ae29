#pragma once
#include <napi.h>

#include "addon/live_handles.h"

#include <memory>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace distillery::addon {

/** JS class Trainer: a student with its optimizer; step(batch, objective, {lr, ...args}) is one fused async call. */
class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  /** The trainer behind a JS Trainer argument (E_ARGUMENT if it is not one, E_DISPOSED if disposed). */
  static std::shared_ptr<train::Trainer> unwrap(Napi::Value value, const std::string& name);
  explicit TrainerWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<train::Trainer>& handle() const;
  Napi::Value step(const Napi::CallbackInfo& info);
  Napi::Value save_checkpoint(const Napi::CallbackInfo& info);
  Napi::Value load_checkpoint(const Napi::CallbackInfo& info);
  Napi::Value distribute(const Napi::CallbackInfo& info);
  Napi::Value set_precision(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<train::Trainer> trainer_;
  LiveHandle live_;
};

/** The Models of a JS array (errors name `name`[i]). */
std::vector<train::ModelPtr> model_list(Napi::Value value, const std::string& name);
/** A step's numbers as a plain JS object. */
Napi::Object stats_to_js(Napi::Env env, const train::StepStats& s);

}  // namespace distillery::addon

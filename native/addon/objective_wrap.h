#pragma once
#include <napi.h>

#include "addon/live_handles.h"

#include <memory>
#include <string>

#include "train/objective.h"

namespace distillery::addon {

/** JS class Objective: one method's loss terms, built by createObjective and stepped by Trainer.step. */
class ObjectiveWrap : public Napi::ObjectWrap<ObjectiveWrap> {
 public:
  /** Registers the Objective class, createObjective and objectiveNames. */
  static void define(Napi::Env env, Napi::Object exports);
  /** The objective behind a JS Objective argument (E_ARGUMENT if it is not one, E_DISPOSED if disposed). */
  static std::shared_ptr<train::Objective> unwrap(Napi::Value value, const std::string& name);
  explicit ObjectiveWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<train::Objective>& handle() const;
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<train::Objective> objective_;
  LiveHandle live_;
};

}  // namespace distillery::addon

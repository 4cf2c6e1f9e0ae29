#include "addon/objective_wrap.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/instance.h"
#include "addon/model_wrap.h"
#include "addon/trainer_wrap.h"
#include "core/error.h"
#include "objectives/registry.h"

namespace distillery::addon {

namespace {
using ObjectivePtr = std::shared_ptr<train::Objective>;

/** createObjective(name, trainer, models[], settings): Promise<Objective>, built on the compute thread
 *  (construction may run the models, as MEAL's probe of block shapes does). */
Napi::Value create_objective(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string name = string_arg(info, 0, "name");
    std::shared_ptr<train::Trainer> trainer = TrainerWrap::unwrap(info[1], "trainer");
    std::vector<train::ModelPtr> models = model_list(info[2], "models");
    nlohmann::json settings = json_from_js(info[3], name);
    return run_async<ObjectivePtr>(
        info.Env(),
        [name, trainer, models, settings] {
          return ObjectivePtr(objectives::make(name, train::ObjectiveSetup{trainer, models, Settings(settings, name)}));
        },
        [](Napi::Env env, ObjectivePtr& objective) -> Napi::Value {
          return instance(env).objective_class.New({Napi::External<ObjectivePtr>::New(env, &objective)});
        });
  });
}

Napi::Value objective_names(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = objectives::names();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}
}  // namespace

void ObjectiveWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(
      env, "Objective", {InstanceMethod("info", &ObjectiveWrap::info), InstanceMethod("dispose", &ObjectiveWrap::dispose)});
  instance(env).objective_class = Napi::Persistent(ctor);
  exports.Set("Objective", ctor);
  exports.Set("createObjective", Napi::Function::New(env, create_objective, "createObjective"));
  exports.Set("objectiveNames", Napi::Function::New(env, objective_names, "objectiveNames"));
}

ObjectiveWrap::ObjectiveWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ObjectiveWrap>(info) {
  guarded(info.Env(), [&] {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      fail(ErrorCode::InvalidArgument,
           "objectives are made by createObjective(name, trainer, models, settings), not new Objective()");
    }
    objective_ = std::move(*info[0].As<Napi::External<ObjectivePtr>>().Data());
    live_ = LiveHandle(info.Env(), HandleKind::Objective);
  });
}

std::shared_ptr<train::Objective> ObjectiveWrap::unwrap(Napi::Value value, const std::string& name) {
  const Napi::FunctionReference& ctor = instance(value.Env()).objective_class;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor.Value())) {
    fail(ErrorCode::InvalidArgument, name, " must be an Objective (from createObjective)");
  }
  return Unwrap(value.As<Napi::Object>())->handle();
}

const std::shared_ptr<train::Objective>& ObjectiveWrap::handle() const {
  if (!objective_) fail(ErrorCode::Disposed, "this Objective was disposed");
  return objective_;
}

Napi::Value ObjectiveWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return json_to_js(info.Env(), handle()->describe()); });
}

Napi::Value ObjectiveWrap::dispose(const Napi::CallbackInfo& info) {
  objective_.reset();
  live_.release();
  return info.Env().Undefined();
}

}  // namespace distillery::addon

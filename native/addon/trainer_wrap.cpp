#include "addon/trainer_wrap.h"

#include <optional>

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/data_wrap.h"
#include "addon/distributed_wrap.h"
#include "addon/instance.h"
#include "addon/model_wrap.h"
#include "addon/objective_wrap.h"
#include "core/error.h"
#include "train/checkpoint_format.h"

namespace distillery::addon {

std::vector<train::ModelPtr> model_list(Napi::Value value, const std::string& name) {
  if (!value.IsArray()) fail(ErrorCode::InvalidArgument, name, " must be an array of Models");
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<train::ModelPtr> out;
  for (uint32_t i = 0; i < array.Length(); ++i)
    out.push_back(ModelWrap::unwrap(array.Get(i), name + "[" + std::to_string(i) + "]"));
  return out;
}

Napi::Object stats_to_js(Napi::Env env, const train::StepStats& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", s.loss);
  Napi::Object terms = Napi::Object::New(env);
  for (const auto& [name, value] : s.terms) terms.Set(name, value);
  out.Set("terms", terms);
  out.Set("correct", Napi::Number::New(env, static_cast<double>(s.correct)));
  out.Set("count", Napi::Number::New(env, static_cast<double>(s.count)));
  out.Set("skipped", s.skipped);
  out.Set("lossScale", s.loss_scale);
  return out;
}

void TrainerWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(
      env, "Trainer",
      {InstanceMethod("step", &TrainerWrap::step), InstanceMethod("saveCheckpoint", &TrainerWrap::save_checkpoint),
       InstanceMethod("loadCheckpoint", &TrainerWrap::load_checkpoint), InstanceMethod("distribute", &TrainerWrap::distribute),
       InstanceMethod("setPrecision", &TrainerWrap::set_precision), InstanceMethod("dispose", &TrainerWrap::dispose)});
  instance(env).trainer_class = Napi::Persistent(ctor);
  exports.Set("Trainer", ctor);
  exports.Set("checkpointFormat", Napi::Function::New(
                                      env,
                                      [](const Napi::CallbackInfo& info) -> Napi::Value {
                                        Napi::Object out = Napi::Object::New(info.Env());
                                        out.Set("modelPrefix", train::kModelPrefix);
                                        out.Set("optimizerPrefix", train::kOptimPrefix);
                                        out.Set("rngName", train::kRngName);
                                        return out;
                                      },
                                      "checkpointFormat"));
}

TrainerWrap::TrainerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainerWrap>(info) {
  guarded(info.Env(), [&] {
    train::ModelPtr student = ModelWrap::unwrap(info[0], "student");
    Options o(info[1], "optimizer");
    train::OptimizerConfig config;
    config.type = o.string("type", config.type);
    config.lr = o.number("lr", config.lr);
    config.momentum = o.number("momentum", config.momentum);
    config.nesterov = o.boolean("nesterov", config.nesterov);
    config.weight_decay = o.number("weightDecay", config.weight_decay);
    config.no_decay_bn_bias = o.boolean("noDecayBnBias", config.no_decay_bn_bias);
    const std::vector<float> betas = o.floats("betas", {static_cast<float>(config.beta1), static_cast<float>(config.beta2)});
    if (betas.size() != 2) fail(ErrorCode::InvalidArgument, "optimizer.betas must hold two numbers, got ", betas.size());
    config.beta1 = betas[0];
    config.beta2 = betas[1];
    config.eps = o.number("eps", config.eps);
    trainer_ = std::make_shared<train::Trainer>(std::move(student), config);
    live_ = LiveHandle(info.Env(), HandleKind::Trainer);
  });
}

std::shared_ptr<train::Trainer> TrainerWrap::unwrap(Napi::Value value, const std::string& name) {
  const Napi::FunctionReference& ctor = instance(value.Env()).trainer_class;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor.Value())) {
    fail(ErrorCode::InvalidArgument, name, " must be a Trainer");
  }
  return Unwrap(value.As<Napi::Object>())->handle();
}

const std::shared_ptr<train::Trainer>& TrainerWrap::handle() const {
  if (!trainer_) fail(ErrorCode::Disposed, "this Trainer was disposed");
  return trainer_;
}

Napi::Value TrainerWrap::step(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<train::Trainer> trainer = handle();
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[0], "batch");
    std::shared_ptr<train::Objective> objective = ObjectiveWrap::unwrap(info[1], "objective");
    const Settings args(json_from_js(info[2], "step"), "step");
    const double lr = args.number("lr");
    return run_async<train::StepStats>(
        info.Env(), [trainer, batch, objective, args, lr] { return trainer->step(*objective, batch, lr, args); }, stats_to_js);
  });
}

Napi::Value TrainerWrap::save_checkpoint(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<train::Trainer> trainer = handle();
    const std::string path = string_arg(info, 0, "path");
    const train::Metadata metadata = string_map_from_js(info[1], "metadata");
    return run_async<bool>(
        info.Env(),
        [trainer, path, metadata] {
          trainer->save_checkpoint(path, metadata);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value TrainerWrap::load_checkpoint(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<train::Trainer> trainer = handle();
    const std::string path = string_arg(info, 0, "path");
    return run_async<train::Metadata>(
        info.Env(), [trainer, path] { return trainer->load_checkpoint(path); },
        [](Napi::Env env, train::Metadata& metadata) -> Napi::Value { return string_map_to_js(env, metadata); });
  });
}

Napi::Value TrainerWrap::distribute(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<train::Trainer> trainer = handle();
    std::shared_ptr<distributed::ProcessGroup> group = ProcessGroupWrap::unwrap(info[0], "group");
    Options o(info[1], "distributed");
    train::DistributedOptions options;
    options.sync_batch_norm = o.boolean("syncBatchNorm", options.sync_batch_norm);
    const double bucket_mb = o.number("bucketCapMb", 25.0);
    if (!(bucket_mb > 0)) fail(ErrorCode::InvalidArgument, "distributed.bucketCapMb must be > 0, got ", bucket_mb);
    options.buckets.bucket_bytes = static_cast<int64_t>(bucket_mb * 1024 * 1024);
    return run_async<bool>(
        info.Env(),
        [trainer, group, options] {
          trainer->distribute(group, options);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value TrainerWrap::set_precision(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<train::Trainer> trainer = handle();
    Options o(info[0], "precision");
    const train::Precision precision = train::parse_precision(o.string("precision", "fp32"));
    std::optional<train::LossScalerOptions> scaler;
    if (o.has("lossScale")) {
      Options s(o.value("lossScale"), "lossScale");
      train::LossScalerOptions options;
      options.init_scale = s.number("initScale", options.init_scale);
      options.growth_factor = s.number("growthFactor", options.growth_factor);
      options.backoff_factor = s.number("backoffFactor", options.backoff_factor);
      options.growth_interval = s.integer("growthInterval", options.growth_interval);
      scaler = options;
    }
    return run_async<bool>(
        info.Env(),
        [trainer, precision, scaler] {
          trainer->set_precision(precision, scaler ? &*scaler : nullptr);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value TrainerWrap::dispose(const Napi::CallbackInfo& info) {
  trainer_.reset();
  live_.release();
  return info.Env().Undefined();
}

}  // namespace distillery::addon

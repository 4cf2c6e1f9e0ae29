#include "addon/trainer_wrap.h"

#include <optional>

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/data_wrap.h"
#include "addon/dist_wrap.h"
#include "addon/instance.h"
#include "addon/model_wrap.h"
#include "core/error.h"
#include "losses/kd_losses.h"
#include "losses/one_losses.h"
#include "train/evaluate.h"

namespace distillery::addon {

std::vector<train::ModelPtr> model_list(Napi::Value value, const std::string& name) {
  if (!value.IsArray()) fail(ErrorCode::InvalidArgument, name, " must be an array of Models");
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<train::ModelPtr> out;
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(ModelWrap::unwrap(array.Get(i), name + "[" + std::to_string(i) + "]"));
  return out;
}

Napi::Object stats_to_js(Napi::Env env, const train::StepStats& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", s.loss);
  out.Set("ce", s.ce);
  out.Set("kd", s.kd);
  out.Set("similarity", s.similarity);
  out.Set("adversarial", s.adversarial);
  out.Set("gates", s.gates);
  out.Set("correct", Napi::Number::New(env, static_cast<double>(s.correct)));
  out.Set("count", Napi::Number::New(env, static_cast<double>(s.count)));
  out.Set("skipped", s.skipped);
  out.Set("lossScale", s.loss_scale);
  return out;
}

namespace {
train::KdOptions kd_options(const Options& o) {
  train::KdOptions kd;
  kd.temperature = o.number("temperature", kd.temperature);
  kd.ce_weight = o.number("ceWeight", kd.ce_weight);
  kd.kd_weight = o.number("kdWeight", kd.kd_weight);
  return kd;
}
}  // namespace

void TrainerWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Trainer",
                                    {InstanceMethod("step", &TrainerWrap::step),
                                     InstanceMethod("saveCheckpoint", &TrainerWrap::save_checkpoint),
                                     InstanceMethod("loadCheckpoint", &TrainerWrap::load_checkpoint),
                                     InstanceMethod("distribute", &TrainerWrap::distribute),
                                     InstanceMethod("setPrecision", &TrainerWrap::set_precision),
                                     InstanceMethod("dispose", &TrainerWrap::dispose)});
  instance(env).trainer_class = Napi::Persistent(ctor);
  exports.Set("Trainer", ctor);
  exports.Set("evaluate", Napi::Function::New(env, evaluate, "evaluate"));
  exports.Set("kdLoss", Napi::Function::New(env, kd_loss, "kdLoss"));
  exports.Set("predict", Napi::Function::New(env, predict, "predict"));
  exports.Set("evaluateOutputs", Napi::Function::New(env, evaluate_outputs, "evaluateOutputs"));
  exports.Set("evaluateMembers", Napi::Function::New(env, evaluate_members, "evaluateMembers"));
  exports.Set("softTargets", Napi::Function::New(env, soft_targets, "softTargets"));
  exports.Set("oneLoss", Napi::Function::New(env, one_loss, "oneLoss"));
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
    Options o(info[1], "step");
    const double lr = o.number("lr");
    const std::string method = o.string("method", "supervised");
    std::function<train::StepStats()> work;
    if (method == "supervised") {
      work = [trainer, batch, lr] { return trainer->supervised_step(*batch, lr); };
    } else if (method == "kd" && o.boolean("cached", false)) {
      const train::KdOptions kd = kd_options(o);
      work = [trainer, batch, kd, lr] { return trainer->kd_cached_step(*batch, kd, lr); };
    } else if (method == "kd") {
      std::vector<train::ModelPtr> teachers = model_list(o.value("teachers"), "step.teachers");
      const train::KdOptions kd = kd_options(o);
      work = [trainer, batch, teachers, kd, lr] { return trainer->kd_step(*batch, teachers, kd, lr); };
    } else if (method == "one") {
      train::OneStepOptions one;
      one.temperature = o.number("temperature", one.temperature);
      one.kl_weight = o.number("klWeight", one.kl_weight);
      work = [trainer, batch, one, lr] { return trainer->one_step(*batch, one, lr); };
    } else if (method == "search") {
      const train::ModelPtr teacher = ModelWrap::unwrap(o.value("teacher"), "step.teacher");
      train::SearchStepOptions search;
      search.temperature = o.number("temperature", search.temperature);
      search.l1 = o.number("l1", search.l1);
      work = [trainer, batch, teacher, search, lr] { return trainer->search_step(*batch, teacher, search, lr); };
    } else {
      fail(ErrorCode::InvalidArgument, "step.method must be \"supervised\", \"kd\", \"one\" or \"search\", got '", method, "'");
    }
    return run_async<train::StepStats>(info.Env(), work, [](Napi::Env env, train::StepStats& s) -> Napi::Value {
      return stats_to_js(env, s);
    });
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
    std::shared_ptr<dist::ProcessGroup> group = ProcessGroupWrap::unwrap(info[0], "group");
    Options o(info[1], "distributed");
    train::DistributedOptions options;
    options.sync_batch_norm = o.boolean("syncBatchNorm", options.sync_batch_norm);
    const double bucket_mb = o.number("bucketCapMb", 25.0);
    if (!(bucket_mb > 0)) fail(ErrorCode::InvalidArgument, "distributed.bucketCapMb must be > 0, got ", bucket_mb);
    options.buckets.bucket_bytes = static_cast<int64_t>(bucket_mb * 1024 * 1024);
    return run_async<bool>(
        info.Env(), [trainer, group, options] { trainer->distribute(group, options); return true; },
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
        info.Env(), [trainer, precision, scaler] { trainer->set_precision(precision, scaler ? &*scaler : nullptr); return true; },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value TrainerWrap::dispose(const Napi::CallbackInfo& info) {
  trainer_.reset();
  return info.Env().Undefined();
}

namespace {
Napi::Object eval_stats_to_js(Napi::Env env, const train::EvalStats& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("lossSum", s.loss_sum);
  out.Set("top1", Napi::Number::New(env, static_cast<double>(s.top1)));
  out.Set("top5", Napi::Number::New(env, static_cast<double>(s.top5)));
  out.Set("count", Napi::Number::New(env, static_cast<double>(s.count)));
  return out;
}

Napi::Value eval_stats_list_to_js(Napi::Env env, std::vector<train::EvalStats>& stats) {
  Napi::Array out = Napi::Array::New(env, stats.size());
  for (size_t i = 0; i < stats.size(); ++i) out.Set(static_cast<uint32_t>(i), eval_stats_to_js(env, stats[i]));
  return out;
}
}  // namespace

Napi::Value evaluate(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<train::ModelPtr> models = model_list(info[0], "models");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[1], "batch");
    return run_async<train::EvalStats>(
        info.Env(), [models, batch] { return train::evaluate_batch(models, *batch); }, eval_stats_to_js);
  });
}

Napi::Value evaluate_outputs(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr model = ModelWrap::unwrap(info[0], "model");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[1], "batch");
    return run_async<std::vector<train::EvalStats>>(
        info.Env(), [model, batch] { return train::evaluate_outputs(model, *batch); }, eval_stats_list_to_js);
  });
}

Napi::Value evaluate_members(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<train::ModelPtr> models = model_list(info[0], "models");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[1], "batch");
    return run_async<std::vector<train::EvalStats>>(
        info.Env(), [models, batch] { return train::evaluate_members(models, *batch); }, eval_stats_list_to_js);
  });
}

Napi::Value soft_targets(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<train::ModelPtr> models = model_list(info[0], "models");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[1], "batch");
    Options o(info[2], "options");
    const double temperature = o.number("temperature", 1.0);
    const int64_t top_k = o.integer("topK", 5);
    // The tensors JS receives are made in the worker, on the compute thread; the JS thread only copies them out.
    using Result = std::vector<std::pair<const char*, torch::Tensor>>;
    return run_async<Result>(
        info.Env(),
        [models, batch, temperature, top_k] {
          const train::SoftTargets r = train::soft_targets(models, *batch, temperature, top_k);
          // float16 bit patterns, for a file (as int32: a logit's sign bit makes its int16 negative).
          const auto half_bits = [](const torch::Tensor& t) { return t.to(torch::kHalf).view(torch::kShort).to(torch::kInt).bitwise_and(0xFFFF); };
          return Result{{"classes", r.classes.to(torch::kInt)},
                        {"values", r.values},
                        {"halfBits", half_bits(r.values)},
                        {"logits", r.mean_logits},
                        {"logitHalfBits", half_bits(r.mean_logits)},
                        {"teacherClasses", r.teacher_classes.to(torch::kInt)},
                        {"teacherHalfBits", half_bits(r.teacher_values)}};
        },
        [](Napi::Env env, Result& fields) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          for (const auto& [name, tensor] : fields) out.Set(name, tensor_to_js(env, tensor));
          return out;
        });
  });
}

Napi::Value one_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<torch::Tensor> branches = float_tensors_from_js(info[0], "branches");
    torch::Tensor ensemble = tensor_from_js(info[1], "ensemble").to(torch::kFloat);
    const torch::Tensor labels = tensor_from_js(info[2], "labels").to(torch::kLong);
    Options o(info[3], "options");
    torch::AutoGradMode grad(true);
    for (auto& z : branches) z.requires_grad_(true);
    ensemble.requires_grad_(true);
    const losses::OneLoss loss =
        losses::one_loss(branches, ensemble, labels, o.number("temperature", 3.0), o.number("klWeight", 1.0));
    loss.total.backward();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("total", loss.total.item<double>());
    out.Set("ce", loss.ce.item<double>());
    out.Set("kl", loss.kl.item<double>());
    Napi::Array grads = Napi::Array::New(env, branches.size());
    for (size_t i = 0; i < branches.size(); ++i) grads.Set(static_cast<uint32_t>(i), tensor_to_js(env, branches[i].grad()));
    out.Set("gradBranches", grads);
    out.Set("gradEnsemble", tensor_to_js(env, ensemble.grad()));
    return out;
  });
}

Napi::Value predict(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<train::ModelPtr> models = model_list(info[0], "models");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[1], "batch");
    return run_async<torch::Tensor>(
        info.Env(), [models, batch] { return train::predict_batch(models, *batch); },
        [](Napi::Env env, torch::Tensor& probs) -> Napi::Value { return tensor_to_js(env, probs); });
  });
}

Napi::Value kd_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const std::vector<torch::Tensor> teachers = float_tensors_from_js(info[1], "teachers");
    const torch::Tensor labels = tensor_from_js(info[2], "labels").to(torch::kLong);
    const train::KdOptions kd = kd_options(Options(info[3], "options"));
    torch::NoGradGuard no_grad;
    const losses::KdLoss loss = losses::kd_loss(student, teachers, labels, kd.temperature, kd.ce_weight, kd.kd_weight);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("total", loss.total.item<double>());
    out.Set("ce", loss.ce.item<double>());
    out.Set("kd", loss.kd.item<double>());
    return out;
  });
}

}  // namespace distillery::addon

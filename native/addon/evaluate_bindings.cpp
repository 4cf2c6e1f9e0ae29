#include "addon/evaluate_bindings.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/data_wrap.h"
#include "addon/model_wrap.h"
#include "addon/trainer_wrap.h"
#include "core/error.h"
#include "train/evaluate.h"

namespace distillery::addon {

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

Napi::Value predict(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<train::ModelPtr> models = model_list(info[0], "models");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[1], "batch");
    return run_async<torch::Tensor>(
        info.Env(), [models, batch] { return train::predict_batch(models, *batch); },
        [](Napi::Env env, torch::Tensor& probs) -> Napi::Value { return tensor_to_js(env, probs); });
  });
}

}  // namespace

void define_evaluate(Napi::Env env, Napi::Object exports) {
  exports.Set("evaluate", Napi::Function::New(env, evaluate, "evaluate"));
  exports.Set("evaluateOutputs", Napi::Function::New(env, evaluate_outputs, "evaluateOutputs"));
  exports.Set("evaluateMembers", Napi::Function::New(env, evaluate_members, "evaluateMembers"));
  exports.Set("predict", Napi::Function::New(env, predict, "predict"));
}

}  // namespace distillery::addon

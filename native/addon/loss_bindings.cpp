#include "addon/loss_bindings.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/errors.h"
#include "core/error.h"
#include "io/module_state.h"
#include "losses/kd_losses.h"
#include "losses/meal_losses.h"
#include "losses/one_losses.h"
#include "models/discriminator.h"

namespace distillery::addon {

namespace {
models::DiscriminatorOptions discriminator_options(const Options& o) {
  models::DiscriminatorOptions d;
  if (o.has("divisors")) d.divisors = o.integers("divisors");
  d.min_width = o.integer("minWidth", d.min_width);
  d.output_relu = o.boolean("outputRelu", d.output_relu);
  return d;
}

/** Named scalar results, read out on the compute thread and handed to JS as numbers. */
using Scalars = std::vector<std::pair<std::string, double>>;

Napi::Object scalars_to_js(Napi::Env env, const Scalars& scalars) {
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [name, value] : scalars) out.Set(name, value);
  return out;
}

struct OneLossResult {
  Scalars scalars;
  std::vector<torch::Tensor> grad_branches;
  torch::Tensor grad_ensemble;
};

Napi::Value one_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<torch::Tensor> branches = float_tensors_from_js(info[0], "branches");
    torch::Tensor ensemble = tensor_from_js(info[1], "ensemble").to(torch::kFloat);
    const torch::Tensor labels = tensor_from_js(info[2], "labels").to(torch::kLong);
    Options o(info[3], "options");
    const double temperature = o.number("temperature", 3.0);
    const double kl_weight = o.number("klWeight", 1.0);
    return run_async<OneLossResult>(
        info.Env(),
        [branches, ensemble, labels, temperature, kl_weight]() mutable {
          torch::AutoGradMode grad(true);
          for (auto& z : branches) z.requires_grad_(true);
          ensemble.requires_grad_(true);
          const losses::OneLoss loss = losses::one_loss(branches, ensemble, labels, temperature, kl_weight);
          loss.total.backward();
          OneLossResult out{
              {{"total", loss.total.item<double>()}, {"ce", loss.ce.item<double>()}, {"kl", loss.kl.item<double>()}},
              {},
              ensemble.grad()};
          for (const auto& z : branches) out.grad_branches.push_back(z.grad());
          return out;
        },
        [](Napi::Env env, OneLossResult& result) -> Napi::Value {
          Napi::Object out = scalars_to_js(env, result.scalars);
          Napi::Array grads = Napi::Array::New(env, result.grad_branches.size());
          for (size_t i = 0; i < result.grad_branches.size(); ++i)
            grads.Set(static_cast<uint32_t>(i), tensor_to_js(env, result.grad_branches[i]));
          out.Set("gradBranches", grads);
          out.Set("gradEnsemble", tensor_to_js(env, result.grad_ensemble));
          return out;
        });
  });
}

Napi::Value kd_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const std::vector<torch::Tensor> teachers = float_tensors_from_js(info[1], "teachers");
    const torch::Tensor labels = tensor_from_js(info[2], "labels").to(torch::kLong);
    const Options o(info[3], "options");
    const double temperature = o.number("temperature", 4.0), ce_weight = o.number("ceWeight", 0.1),
                 kd_weight = o.number("kdWeight", 0.9);
    return run_async<Scalars>(
        info.Env(),
        [student, teachers, labels, temperature, ce_weight, kd_weight] {
          torch::NoGradGuard no_grad;
          const losses::KdLoss loss = losses::kd_loss(student, teachers, labels, temperature, ce_weight, kd_weight);
          return Scalars{{"total", loss.total.item<double>()}, {"ce", loss.ce.item<double>()}, {"kd", loss.kd.item<double>()}};
        },
        scalars_to_js);
  });
}

Napi::Value align_block(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor block = tensor_from_js(info[0], "block").to(torch::kFloat);
    Options o(info[1], "options");
    const int64_t length = o.integer("length", 0);
    const losses::Pooling pooling = losses::parse_pooling(o.string("pooling", "max"), "options.pooling");
    return run_async<torch::Tensor>(
        info.Env(),
        [block, length, pooling] {
          torch::NoGradGuard no_grad;
          return losses::align_block(block, length, pooling).contiguous();
        },
        [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return tensor_to_js(env, out); });
  });
}

Napi::Value similarity_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const std::vector<torch::Tensor> teachers = float_tensors_from_js(info[1], "teachers");
    Options o(info[2], "options");
    const losses::Similarity similarity = losses::parse_similarity(o.string("similarity"), "options.similarity");
    const double temperature = o.number("temperature", 1.0);
    return run_async<double>(
        info.Env(),
        [student, teachers, similarity, temperature] {
          torch::NoGradGuard no_grad;
          return losses::similarity_loss(student, teachers, similarity, temperature).item<double>();
        },
        [](Napi::Env env, double& loss) -> Napi::Value { return Napi::Number::New(env, loss); });
  });
}

Napi::Value discriminator_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const torch::Tensor teacher = tensor_from_js(info[1], "teacher").to(torch::kFloat);
    if (student.dim() != 2) fail(ErrorCode::Shape, "student must be [N, D], got ", student.sizes());
    const std::vector<std::pair<std::string, torch::Tensor>> weights = named_tensors_from_js(info[2], "weights");
    const models::DiscriminatorOptions options = discriminator_options(Options(info[3], "options"));
    return run_async<Scalars>(
        info.Env(),
        [student, teacher, weights, options] {
          models::Discriminator d(student.size(1), options);
          io::load_module_state(*d, weights, "", true);
          torch::NoGradGuard no_grad;
          const torch::Tensor s = d->forward(student);
          return Scalars{{"discriminator", losses::discriminator_loss(s, d->forward(teacher)).item<double>()},
                         {"generator", losses::generator_loss(s).item<double>()}};
        },
        scalars_to_js);
  });
}

}  // namespace

void define_losses(Napi::Env env, Napi::Object exports) {
  exports.Set("kdLoss", Napi::Function::New(env, kd_loss, "kdLoss"));
  exports.Set("oneLoss", Napi::Function::New(env, one_loss, "oneLoss"));
  exports.Set("alignBlock", Napi::Function::New(env, align_block, "alignBlock"));
  exports.Set("similarityLoss", Napi::Function::New(env, similarity_loss, "similarityLoss"));
  exports.Set("discriminatorLoss", Napi::Function::New(env, discriminator_loss, "discriminatorLoss"));
}

}  // namespace distillery::addon

#include "addon/loss_bindings.h"

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

Napi::Value kd_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const std::vector<torch::Tensor> teachers = float_tensors_from_js(info[1], "teachers");
    const torch::Tensor labels = tensor_from_js(info[2], "labels").to(torch::kLong);
    const Options o(info[3], "options");
    torch::NoGradGuard no_grad;
    const losses::KdLoss loss = losses::kd_loss(student, teachers, labels, o.number("temperature", 4.0),
                                                o.number("ceWeight", 0.1), o.number("kdWeight", 0.9));
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("total", loss.total.item<double>());
    out.Set("ce", loss.ce.item<double>());
    out.Set("kd", loss.kd.item<double>());
    return out;
  });
}

Napi::Value align_block(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor block = tensor_from_js(info[0], "block").to(torch::kFloat);
    Options o(info[1], "options");
    torch::NoGradGuard no_grad;
    const torch::Tensor out =
        losses::align_block(block, o.integer("length", 0), losses::parse_pooling(o.string("pooling", "max"), "options.pooling"));
    return tensor_to_js(info.Env(), out.contiguous());
  });
}

Napi::Value similarity_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const std::vector<torch::Tensor> teachers = float_tensors_from_js(info[1], "teachers");
    Options o(info[2], "options");
    torch::NoGradGuard no_grad;
    const torch::Tensor loss = losses::similarity_loss(
        student, teachers, losses::parse_similarity(o.string("similarity"), "options.similarity"), o.number("temperature", 1.0));
    return Napi::Number::New(info.Env(), loss.item<double>());
  });
}

Napi::Value discriminator_loss(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const torch::Tensor student = tensor_from_js(info[0], "student").to(torch::kFloat);
    const torch::Tensor teacher = tensor_from_js(info[1], "teacher").to(torch::kFloat);
    if (student.dim() != 2) fail(ErrorCode::Shape, "student must be [N, D], got ", student.sizes());
    const std::vector<std::pair<std::string, torch::Tensor>> weights = named_tensors_from_js(info[2], "weights");
    models::Discriminator d(student.size(1), discriminator_options(Options(info[3], "options")));
    io::load_module_state(*d, weights, "", true);
    torch::NoGradGuard no_grad;
    const torch::Tensor s = d->forward(student);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("discriminator", losses::discriminator_loss(s, d->forward(teacher)).item<double>());
    out.Set("generator", losses::generator_loss(s).item<double>());
    return out;
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

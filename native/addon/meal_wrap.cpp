#include "addon/meal_wrap.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/data_wrap.h"
#include "addon/trainer_wrap.h"
#include "core/error.h"
#include "io/module_state.h"
#include "losses/meal_losses.h"

namespace distillery::addon {

namespace {
models::DiscriminatorOptions discriminator_options(const Options& o) {
  models::DiscriminatorOptions d;
  if (o.has("divisors")) d.divisors = o.integers("divisors");
  d.min_width = o.integer("minWidth", d.min_width);
  d.output_relu = o.boolean("outputRelu", d.output_relu);
  return d;
}

std::vector<train::MealBlock> meal_blocks(Napi::Value value) {
  if (!value.IsArray()) fail(ErrorCode::InvalidArgument, "meal.blocks must be an array of {name, length?, weight?, adversarialWeight?, discriminator?}");
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<train::MealBlock> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Options o(array.Get(i), "meal.blocks[" + std::to_string(i) + "]");
    train::MealBlock b;
    b.name = o.string("name");
    b.length = o.integer("length", 0);
    b.weight = o.number("weight", b.weight);
    b.adversarial_weight = o.number("adversarialWeight", b.adversarial_weight);
    b.discriminator = o.boolean("discriminator", b.discriminator);
    out.push_back(std::move(b));
  }
  return out;
}
}  // namespace

void MealWrap::define(Napi::Env env, Napi::Object exports) {
  exports.Set("Meal", DefineClass(env, "Meal",
                                  {InstanceMethod("info", &MealWrap::info), InstanceMethod("step", &MealWrap::step),
                                   InstanceMethod("dispose", &MealWrap::dispose)}));
  exports.Set("alignBlock", Napi::Function::New(env, align_block, "alignBlock"));
  exports.Set("similarityLoss", Napi::Function::New(env, similarity_loss, "similarityLoss"));
  exports.Set("discriminatorLoss", Napi::Function::New(env, discriminator_loss, "discriminatorLoss"));
}

MealWrap::MealWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MealWrap>(info) {
  guarded(info.Env(), [&] {
    std::shared_ptr<train::Trainer> trainer = TrainerWrap::unwrap(info[0], "trainer");
    std::vector<train::ModelPtr> teachers = model_list(info[1], "teachers");
    Options o(info[2], "meal");
    train::MealConfig config;
    config.blocks = meal_blocks(o.value("blocks"));
    config.pooling = losses::parse_pooling(o.string("pooling", "max"), "meal.pooling");
    config.similarity = losses::parse_similarity(o.string("similarity", "ce"), "meal.similarity");
    config.temperature = o.number("temperature", config.temperature);
    config.adversarial = o.boolean("adversarial", config.adversarial);
    if (o.has("discriminator")) config.discriminator = discriminator_options(Options(o.value("discriminator"), "meal.discriminator"));
    config.ce_weight = o.number("ceWeight", config.ce_weight);
    config.teacher_train_mode = o.boolean("teacherTrainMode", config.teacher_train_mode);
    config.grl_scale = o.number("grlScale", config.grl_scale);
    config.input_shape = o.integers("inputShape");
    distiller_ = std::make_shared<train::MealDistiller>(std::move(trainer), std::move(teachers), std::move(config));
  });
}

const std::shared_ptr<train::MealDistiller>& MealWrap::handle() const {
  if (!distiller_) fail(ErrorCode::Disposed, "this Meal was disposed");
  return distiller_;
}

Napi::Value MealWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& d = handle();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("teachers", Napi::Number::New(info.Env(), static_cast<double>(d->teacher_count())));
    const std::vector<int64_t> lengths = d->block_lengths();
    Napi::Array array = Napi::Array::New(info.Env(), lengths.size());
    for (uint32_t i = 0; i < lengths.size(); ++i) array.Set(i, Napi::Number::New(info.Env(), static_cast<double>(lengths[i])));
    out.Set("blockLengths", array);
    return out;
  });
}

Napi::Value MealWrap::step(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<train::MealDistiller> distiller = handle();
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[0], "batch");
    Options o(info[1], "step");
    train::MealStepOptions options;
    options.phase = train::parse_meal_phase(o.string("phase", "joint"));
    options.teachers = o.integers("teachers");
    options.lr = o.number("lr");
    options.discriminator_lr = o.number("discriminatorLr", options.lr);
    return run_async<train::StepStats>(
        info.Env(), [distiller, batch, options] { return distiller->step(batch, options); },
        [](Napi::Env env, train::StepStats& s) -> Napi::Value { return stats_to_js(env, s); });
  });
}

Napi::Value MealWrap::dispose(const Napi::CallbackInfo& info) {
  distiller_.reset();
  return info.Env().Undefined();
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

}  // namespace distillery::addon

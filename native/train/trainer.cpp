#include "train/trainer.h"

#include "core/error.h"
#include "io/module_state.h"
#include "io/safetensors.h"
#include "losses/kd_losses.h"
#include "losses/one_losses.h"
#include "models/cifar_resnet.h"
#include "models/one_net.h"
#include "train/checks.h"

namespace distillery::train {

namespace F = torch::nn::functional;

namespace {
constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimPrefix = "optim.";
constexpr const char* kRngName = "rng.cpu";
}  // namespace

Trainer::Trainer(ModelPtr student, const OptimizerConfig& config)
    : student_(std::move(student)), optimizer_(*student_->net, config) {}

StepStats Trainer::apply(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels, double lr) {
  const double value = loss.item<double>();
  require_finite(value, lr);
  optimizer_.set_lr(lr);
  optimizer_.zero_grad();
  loss.backward();
  optimizer_.step();
  StepStats stats;
  stats.loss = value;
  stats.count = labels.size(0);
  stats.correct = logits.detach().argmax(1).eq(labels).sum().item<int64_t>();
  return stats;
}

StepStats Trainer::supervised_step(const data::Batch& batch, double lr) {
  ModelLocks lock({student_.get()});
  check_batch(batch, max_label(batch), *student_);
  torch::AutoGradMode grad(true);
  student_->net->train();
  const torch::Tensor x = data::normalize_images(batch, student_->device);
  const torch::Tensor y = batch.labels.to(student_->device);
  const torch::Tensor logits = student_->net->forward(x);
  const torch::Tensor loss = F::cross_entropy(logits, y);
  StepStats stats = apply(loss, logits, y, lr);
  stats.ce = stats.loss;
  return stats;
}

StepStats Trainer::kd_step(const data::Batch& batch, const std::vector<ModelPtr>& teachers, const KdOptions& options,
                           double lr) {
  if (teachers.empty()) fail(ErrorCode::InvalidArgument, "a KD step needs at least one teacher");
  std::vector<ModelHandle*> all{student_.get()};
  for (const auto& t : teachers) {
    if (t == student_) fail(ErrorCode::InvalidArgument, "the student cannot also be one of its teachers");
    all.push_back(t.get());
  }
  ModelLocks lock(all);
  const int64_t largest_label = max_label(batch);
  check_batch(batch, largest_label, *student_);
  const torch::Tensor x = data::normalize_images(batch, student_->device);
  const torch::Tensor y = batch.labels.to(student_->device);
  std::vector<torch::Tensor> teacher_logits;
  {
    torch::NoGradGuard no_grad;
    for (const auto& t : teachers) {
      check_batch(batch, largest_label, *t);
      t->net->eval();
      teacher_logits.push_back(t->net->forward(x.to(t->device)).to(student_->device));
    }
  }
  torch::AutoGradMode grad(true);
  student_->net->train();
  const torch::Tensor logits = student_->net->forward(x);
  const losses::KdLoss loss =
      losses::kd_loss(logits, teacher_logits, y, options.temperature, options.ce_weight, options.kd_weight);
  StepStats stats = apply(loss.total, logits, y, lr);
  stats.ce = loss.ce.item<double>();
  stats.kd = loss.kd.item<double>();
  return stats;
}

StepStats Trainer::kd_cached_step(const data::Batch& batch, const KdOptions& options, double lr) {
  if (!batch.soft_indices.defined()) {
    fail(ErrorCode::InvalidArgument, "a cached KD step needs a batch with replayed soft labels (a dataset opened with a soft-label cache)");
  }
  ModelLocks lock({student_.get()});
  check_batch(batch, max_label(batch), *student_);
  const torch::Tensor x = data::normalize_images(batch, student_->device);
  const torch::Tensor y = batch.labels.to(student_->device);
  torch::AutoGradMode grad(true);
  student_->net->train();
  const torch::Tensor logits = student_->net->forward(x);
  const torch::Tensor target = losses::expand_soft_labels(batch.soft_indices, batch.soft_values, logits.size(1)).to(student_->device);
  const torch::Tensor ce = torch::nn::functional::cross_entropy(logits, y);
  const torch::Tensor kd = losses::kd_kl_loss(logits, target, options.temperature);
  StepStats stats = apply(options.ce_weight * ce + options.kd_weight * kd, logits, y, lr);
  stats.ce = ce.item<double>();
  stats.kd = kd.item<double>();
  return stats;
}

StepStats Trainer::one_step(const data::Batch& batch, const OneStepOptions& options, double lr) {
  ModelLocks lock({student_.get()});
  auto* one = dynamic_cast<models::OneNetImpl*>(student_->net.get());
  if (one == nullptr) {
    fail(ErrorCode::InvalidArgument, "method 'one' trains a multi-branch network, but the student is a plain ",
         student_->spec.arch, ": build it with branches >= 2 (--branches 3)");
  }
  check_batch(batch, max_label(batch), *student_);
  torch::AutoGradMode grad(true);
  one->train();
  const torch::Tensor x = data::normalize_images(batch, student_->device);
  const torch::Tensor y = batch.labels.to(student_->device);
  const models::OneOutputs out = one->run(x);
  const losses::OneLoss loss = losses::one_loss(out.branches, out.ensemble, y, options.temperature, options.kl_weight);
  // Train accuracy is branch 1's: the network a user deploys.
  StepStats stats = apply(loss.total, out.branches.front(), y, lr);
  stats.ce = loss.ce.item<double>();
  stats.kd = loss.kl.item<double>();
  return stats;
}

StepStats Trainer::search_step(const data::Batch& batch, const ModelPtr& teacher, const SearchStepOptions& options, double lr) {
  if (teacher == student_) fail(ErrorCode::InvalidArgument, "the search network cannot also be its teacher");
  ModelLocks lock({student_.get(), teacher.get()});
  std::vector<torch::Tensor> gates;
  for (const auto& p : student_->net->named_parameters()) {
    if (models::is_gate(p.key())) gates.push_back(p.value());
  }
  if (gates.empty()) {
    fail(ErrorCode::InvalidArgument, "a search step needs the gated network (spec gated: true), got a plain ", student_->spec.arch);
  }
  const int64_t largest_label = max_label(batch);
  check_batch(batch, largest_label, *student_);
  check_batch(batch, largest_label, *teacher);
  const torch::Tensor x = data::normalize_images(batch, student_->device);
  const torch::Tensor y = batch.labels.to(student_->device);
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    teacher->net->eval();
    target = losses::ensemble_probabilities({teacher->net->forward(x.to(teacher->device)).to(student_->device)}, options.temperature);
  }
  torch::AutoGradMode grad(true);
  student_->net->eval();
  const torch::Tensor logits = student_->net->forward(x);
  const torch::Tensor kl = losses::kd_kl_loss(logits, target, options.temperature);
  torch::Tensor l1 = torch::zeros({}, logits.options());
  for (const auto& g : gates) l1 = l1 + g.abs().sum();
  StepStats stats = apply(kl + options.l1 * l1, logits, y, lr);
  stats.kd = kl.item<double>();
  stats.gates = l1.item<double>();
  return stats;
}

void Trainer::attach(const std::string& prefix, std::shared_ptr<Stateful> part) {
  if (prefix.empty() || prefix == kModelPrefix || prefix == kOptimPrefix) {
    fail(ErrorCode::InvalidArgument, "attached training state needs its own checkpoint prefix, got '", prefix, "'");
  }
  ModelLocks lock({student_.get()});
  attached_.emplace_back(prefix, std::move(part));
}

void Trainer::save_checkpoint(const std::string& path, const Metadata& metadata) {
  ModelLocks lock({student_.get()});
  io::TensorList tensors = io::module_state(*student_->net, kModelPrefix);
  for (auto& entry : optimizer_.state(kOptimPrefix)) tensors.push_back(std::move(entry));
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> rng_lock(generator.mutex());
    tensors.emplace_back(kRngName, generator.get_state());
  }
  for (const auto& [prefix, part] : attached_) {
    for (auto& entry : part->state(prefix)) tensors.push_back(std::move(entry));
  }
  io::Metadata meta(metadata.begin(), metadata.end());
  io::write_safetensors(path, tensors, meta);
}

Metadata Trainer::load_checkpoint(const std::string& path) {
  ModelLocks lock({student_.get()});
  io::SafetensorsFile file = io::read_safetensors(path);
  io::load_module_state(*student_->net, file.tensors, kModelPrefix, true);
  optimizer_.load_state(file.tensors, kOptimPrefix);
  for (const auto& [prefix, part] : attached_) part->load_state(file.tensors, prefix);
  for (const auto& [name, tensor] : file.tensors) {
    if (name != kRngName) continue;
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> rng_lock(generator.mutex());
    generator.set_state(tensor);
  }
  return Metadata(file.metadata.begin(), file.metadata.end());
}

}  // namespace distillery::train

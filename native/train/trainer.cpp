#include "train/trainer.h"

#include "core/error.h"
#include "io/module_state.h"
#include "io/safetensors.h"
#include "losses/kd_losses.h"
#include "losses/one_losses.h"
#include "models/cifar_resnet.h"
#include "models/one_net.h"
#include "train/checks.h"

#include <cmath>
#include <sstream>

namespace distillery::train {

namespace F = torch::nn::functional;

namespace {
constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimPrefix = "optim.";
constexpr const char* kRngName = "rng.cpu";

// What a forward pass under a trainer runs with: its autocast, and SyncBatchNorm when it is the
// student's (a teacher's BatchNorm keeps its own statistics).
struct ForwardScope {
  ForwardScope(torch::Device device, Precision precision, dist::ProcessGroup* sync_group)
      : amp(device, precision), sync_bn(sync_group) {}
  AutocastScope amp;
  dist::SyncBatchNormScope sync_bn;
};
}  // namespace

Trainer::Trainer(ModelPtr student, const OptimizerConfig& config)
    : student_(std::move(student)), optimizer_(*student_->net, config) {}

StepStats Trainer::apply(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels, double lr) {
  const double value = loss.item<double>();
  check_loss(value, lr);
  optimizer_.set_lr(lr);
  optimizer_.zero_grad();
  StepStats stats;
  stats.skipped = !backward_and_step(loss, {&optimizer_});
  stats.loss_scale = loss_scale();
  sync_buffers();
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
  const torch::Tensor logits = forward(*student_, x);
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
      teacher_logits.push_back(forward(*t, x.to(t->device)).to(student_->device));
    }
  }
  torch::AutoGradMode grad(true);
  student_->net->train();
  const torch::Tensor logits = forward(*student_, x);
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
  const torch::Tensor logits = forward(*student_, x);
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
  models::OneOutputs out;
  {
    ForwardScope scope(student_->device, precision_, sync_batch_norm_group());
    out = one->run(x);
  }
  for (auto& branch : out.branches) branch = branch.to(torch::kFloat);
  out.ensemble = out.ensemble.to(torch::kFloat);
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
    target = losses::ensemble_probabilities({forward(*teacher, x.to(teacher->device)).to(student_->device)}, options.temperature);
  }
  torch::AutoGradMode grad(true);
  student_->net->eval();
  const torch::Tensor logits = forward(*student_, x);
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
  if (group_) part->distribute(group_, options_.buckets);
  attached_.emplace_back(prefix, std::move(part));
}

void Trainer::set_precision(Precision precision, const LossScalerOptions* scaler) {
  ModelLocks lock({student_.get()});
  check_precision(student_->device, precision);
  precision_ = precision;
  if (scaler == nullptr) {
    if (scaler_) fail(ErrorCode::InvalidArgument, "loss scaling cannot be turned off once on (its scale is checkpointed)");
    return;
  }
  if (scaler_) fail(ErrorCode::InvalidArgument, "this trainer already scales its loss");
  scaler_ = std::make_shared<LossScaler>(*scaler);
  attached_.emplace_back("amp.", scaler_);
}

dist::ProcessGroup* Trainer::sync_group_for(const ModelHandle& model) const {
  return &model == student_.get() ? sync_batch_norm_group() : nullptr;
}

torch::Tensor Trainer::forward(ModelHandle& model, const torch::Tensor& x) const {
  ForwardScope scope(model.device, precision_, sync_group_for(model));
  return model.net->forward(x).to(torch::kFloat);
}

std::vector<torch::Tensor> Trainer::features(ModelHandle& model, const torch::Tensor& x) const {
  std::vector<torch::Tensor> out;
  {
    ForwardScope scope(model.device, precision_, sync_group_for(model));
    out = model.net->features(x);
  }
  for (auto& t : out) t = t.to(torch::kFloat);
  return out;
}

bool Trainer::backward_and_step(const torch::Tensor& loss, const std::vector<Optimizer*>& optimizers) {
  if (!scaler_) {
    loss.backward();
    for (Optimizer* o : optimizers) o->step();
    return true;
  }
  scaler_->scale_loss(loss).backward();
  bool overflow = false;
  for (Optimizer* o : optimizers) {
    o->synchronize();
    overflow = scaler_->unscale(o->parameters()) || overflow;
  }
  if (!overflow) {
    for (Optimizer* o : optimizers) o->step();
  }
  scaler_->update(overflow);
  return !overflow;
}

void Trainer::distribute(std::shared_ptr<dist::ProcessGroup> group, const DistributedOptions& options) {
  if (!group) fail(ErrorCode::InvalidArgument, "distribute needs a process group");
  if (group_) fail(ErrorCode::InvalidArgument, "this trainer is already distributed");
  ModelLocks lock({student_.get()});
  dist::broadcast_module(*group, *student_->net);
  optimizer_.distribute(group, options.buckets);
  for (const auto& [prefix, part] : attached_) part->distribute(group, options.buckets);
  group_ = std::move(group);
  options_ = options;
}

void Trainer::check_loss(double value, double lr) {
  if (!group_ || group_->size() == 1) {
    require_finite(value, lr);
    return;
  }
  torch::Tensor losses = torch::zeros({group_->size()}, torch::kDouble);
  losses[group_->rank()] = value;
  group_->all_reduce(losses);
  std::vector<int64_t> bad;
  for (int64_t r = 0; r < group_->size(); ++r) {
    if (!std::isfinite(losses[r].item<double>())) bad.push_back(r);
  }
  if (bad.empty()) return;
  std::ostringstream ranks;
  for (size_t i = 0; i < bad.size(); ++i) ranks << (i ? ", " : "") << bad[i];
  fail(ErrorCode::NonFinite, "the loss is ", losses[bad.front()].item<double>(), " on rank", bad.size() > 1 ? "s " : " ",
       ranks.str(), " (lr ", lr, "): lower the learning rate, check the data for NaN, or resume from the last checkpoint");
}

void Trainer::sync_buffers() {
  if (!group_ || group_->size() == 1 || options_.sync_batch_norm) return;
  std::vector<torch::Tensor> buffers;
  for (const auto& b : student_->net->buffers(true)) {
    if (b.is_floating_point()) buffers.push_back(b);
  }
  dist::broadcast_from_rank0(*group_, buffers);
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

#include "train/trainer.h"

#include "core/error.h"
#include "io/module_state.h"
#include "io/safetensors.h"
#include "train/checkpoint_format.h"
#include "train/checks.h"

#include <cmath>
#include <sstream>

namespace distillery::train {

Trainer::Trainer(ModelPtr student, const OptimizerConfig& config)
    : student_(std::move(student)), optimizer_(*student_->net, config) {}

StepStats Trainer::step(Objective& objective, const std::shared_ptr<const data::Batch>& batch, double lr, const Settings& args) {
  if (objective.owner() != this)
    fail(ErrorCode::InvalidArgument, "this objective was made for another trainer: make one for this trainer");
  const std::vector<ModelPtr> models = objective.models();
  std::vector<ModelHandle*> all{student_.get()};
  for (const auto& m : models) all.push_back(m.get());
  ModelLocks lock(all);
  const int64_t largest_label = max_label(*batch);
  check_batch(*batch, largest_label, *student_);
  for (const auto& m : models) check_batch(*batch, largest_label, *m);
  torch::AutoGradMode grad(true);
  student_->net->train();
  StepContext context{*this, batch, data::normalize_images(*batch, student_->device), batch->labels.to(student_->device),
                      lr,    args};
  const ObjectiveLoss out = objective.compute(context);
  if (out.terms.empty()) fail(ErrorCode::InvalidArgument, "an objective returned no loss terms");
  torch::Tensor total;
  for (const LossTerm& term : out.terms) {
    const torch::Tensor weighted = term.weight == 1.0 ? term.value : term.weight * term.value;
    total = total.defined() ? total + weighted : weighted;
  }
  StepStats stats;
  stats.loss = total.item<double>();
  check_loss(stats.loss, lr);
  std::vector<Optimizer*> stepping;
  if (out.student_steps) {
    optimizer_.set_lr(lr);
    optimizer_.zero_grad();
    stepping.push_back(&optimizer_);
  }
  for (const ObjectiveOptimizer& o : out.optimizers) {
    o.optimizer->set_lr(o.lr);
    o.optimizer->zero_grad();
    if (o.step) stepping.push_back(o.optimizer);
  }
  stats.skipped = !backward_and_step(total, stepping);
  stats.loss_scale = loss_scale();
  // Gradients an optimizer did not step on must not leak into its next step.
  for (const ObjectiveOptimizer& o : out.optimizers) {
    if (!o.step) o.optimizer->zero_grad();
  }
  if (out.student_steps) sync_buffers();
  stats.count = batch->size();
  for (const LossTerm& term : out.terms) stats.terms.emplace_back(term.name, term.value.item<double>());
  if (out.predictions.defined()) stats.correct = out.predictions.detach().argmax(1).eq(context.y).sum().item<int64_t>();
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

distributed::ProcessGroup* Trainer::sync_group_for(const ModelHandle& model) const {
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

void Trainer::distribute(std::shared_ptr<distributed::ProcessGroup> group, const DistributedOptions& options) {
  if (!group) fail(ErrorCode::InvalidArgument, "distribute needs a process group");
  if (group_) fail(ErrorCode::InvalidArgument, "this trainer is already distributed");
  ModelLocks lock({student_.get()});
  distributed::broadcast_module(*group, *student_->net);
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
  distributed::broadcast_from_rank0(*group_, buffers);
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

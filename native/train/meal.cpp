#include "train/meal.h"

#include <functional>
#include <sstream>

#include "core/error.h"
#include "io/module_state.h"
#include "losses/kd_losses.h"
#include "models/layers.h"
#include "train/checks.h"

namespace distillery::train {

namespace F = torch::nn::functional;

MealPhase parse_meal_phase(const std::string& name) {
  if (name == "joint") return MealPhase::Joint;
  if (name == "grl") return MealPhase::Reversal;
  if (name == "discriminator") return MealPhase::Discriminator;
  if (name == "student") return MealPhase::Student;
  fail(ErrorCode::InvalidArgument, "MEAL step phase must be joint, grl, discriminator or student; got '", name, "'");
}

namespace {
constexpr const char* kDiscriminatorPrefix = "disc.";
constexpr const char* kOptimizerPrefix = "dopt.";

/**
 * Lets a training-mode forward run without moving BatchNorm running statistics: the discriminator
 * phase needs the student's batch-statistics features, but must leave the student exactly as it was.
 */
class FrozenBatchNormStats {
 public:
  explicit FrozenBatchNormStats(torch::nn::Module& root) {
    for (const auto& m : root.modules(/*include_self=*/true)) {
      if (auto* bn2 = m->as<models::BatchNorm2dImpl>()) freeze(*bn2);
      if (auto* bn1 = m->as<torch::nn::BatchNorm1dImpl>()) freeze(*bn1);
    }
  }
  ~FrozenBatchNormStats() {
    for (auto& restore : restore_) restore();
  }
  FrozenBatchNormStats(const FrozenBatchNormStats&) = delete;
  FrozenBatchNormStats& operator=(const FrozenBatchNormStats&) = delete;

 private:
  template <typename BatchNorm>
  void freeze(BatchNorm& bn) {
    const c10::optional<double> momentum = bn.options.momentum();
    const torch::Tensor tracked = bn.num_batches_tracked.defined() ? bn.num_batches_tracked.clone() : torch::Tensor();
    bn.options.momentum(0.0);
    restore_.emplace_back([&bn, momentum, tracked] {
      bn.options.momentum(momentum);
      if (tracked.defined()) bn.num_batches_tracked.copy_(tracked);
    });
  }
  std::vector<std::function<void()>> restore_;
};

/** Runs `net` once on a zero input in eval mode (restoring its mode) to learn its block shapes. */
std::vector<torch::Tensor> probe(ModelHandle& model, const std::vector<int64_t>& input_shape) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.net->is_training();
  model.net->eval();
  std::vector<int64_t> shape{2};
  shape.insert(shape.end(), input_shape.begin(), input_shape.end());
  std::vector<torch::Tensor> out = model.net->features(torch::zeros(shape, torch::TensorOptions().device(model.device)));
  model.net->train(was_training);
  return out;
}

/**
 * A block by feature name ("layer3", "block3", "logits"), by family-neutral stage ("stage3": the third
 * stage of a ResNet or a WRN alike), or by position as the official code's out_layer ("-1": logits).
 */
size_t block_index(const ModelHandle& model, const std::string& block, const std::string& role) {
  const std::vector<std::string> names = model.net->feature_names();
  const auto count = static_cast<int64_t>(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == block) return i;
  }
  int64_t index = -1;
  size_t used = 0;
  try {
    if (block.rfind("stage", 0) == 0 && block.size() > 5) {
      const int64_t stage = std::stoll(block.substr(5), &used);
      used += 5;
      if (stage >= 1 && stage < count) index = stage - 1;
    } else if (!block.empty()) {
      const int64_t position = std::stoll(block, &used);
      if (position >= -count && position < count) index = position < 0 ? count + position : position;
    }
  } catch (const std::exception&) {
    index = -1;
  }
  if (index >= 0 && used == block.size()) return static_cast<size_t>(index);
  std::ostringstream known;
  for (size_t i = 0; i < names.size(); ++i) known << (i ? ", " : "") << names[i];
  fail(ErrorCode::InvalidArgument, "meal.blocks: '", block, "' is not a block of the ", role, " (", model.spec.arch,
       "); its blocks are ", known.str(), " (or stage1..stage", count - 1, ", or positions -", count, "..", count - 1, ")");
}
}  // namespace

MealAdversary::MealAdversary(const std::vector<std::pair<std::string, int64_t>>& inputs,
                             const models::DiscriminatorOptions& options, const OptimizerConfig& optimizer)
    : module_(std::make_shared<torch::nn::Module>("MealDiscriminators")) {
  for (const auto& [name, features] : inputs) {
    by_name_.emplace(name, module_->register_module(name, models::Discriminator(features, options)));
  }
  optimizer_ = std::make_unique<Optimizer>(*module_, optimizer);
}

io::TensorList MealAdversary::state(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  io::TensorList out = io::module_state(*module_, prefix + kDiscriminatorPrefix);
  for (auto& entry : optimizer_->state(prefix + kOptimizerPrefix)) out.push_back(std::move(entry));
  return out;
}

void MealAdversary::load_state(const io::TensorList& tensors, const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  io::load_module_state(*module_, tensors, prefix + kDiscriminatorPrefix, true);
  optimizer_->load_state(tensors, prefix + kOptimizerPrefix);
}

void MealAdversary::distribute(const std::shared_ptr<dist::ProcessGroup>& group, const dist::SyncOptions& options) {
  std::lock_guard<std::mutex> lock(mutex_);
  dist::broadcast_module(*group, *module_);
  optimizer_->distribute(group, options);
}

models::Discriminator* MealAdversary::find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

MealDistiller::MealDistiller(std::shared_ptr<Trainer> trainer, std::vector<ModelPtr> teachers, MealConfig config)
    : trainer_(std::move(trainer)), teachers_(std::move(teachers)), config_(std::move(config)) {
  const ModelPtr& student = trainer_->student();
  // Without teacher models the batches replay a soft-label cache, which holds the ensemble's outputs only.
  cached_ = teachers_.empty();
  if (config_.blocks.empty()) fail(ErrorCode::InvalidArgument, "meal.blocks: name at least one block (e.g. \"logits\")");
  if (config_.input_shape.size() != 3) {
    fail(ErrorCode::InvalidArgument, "MEAL needs the input shape [C, H, W] to size its blocks, got ", config_.input_shape.size(),
         " numbers");
  }
  std::vector<ModelHandle*> all{student.get()};
  for (const auto& t : teachers_) {
    if (t == student) fail(ErrorCode::InvalidArgument, "the student cannot also be one of its teachers");
    all.push_back(t.get());
  }
  std::vector<torch::Tensor> student_probe;
  std::vector<std::vector<torch::Tensor>> teacher_probes;
  {
    ModelLocks lock(all);
    student_probe = probe(*student, config_.input_shape);
    for (const auto& t : teachers_) teacher_probes.push_back(probe(*t, config_.input_shape));
  }

  std::vector<std::pair<std::string, int64_t>> discriminator_inputs;
  for (const MealBlock& block : config_.blocks) {
    Resolved r{block, 0, block_index(*student, block.name, "student"), {}};
    for (const Resolved& seen : blocks_) {
      if (seen.student_index == r.student_index) {
        fail(ErrorCode::InvalidArgument, "meal.blocks: '", block.name, "' and '", seen.block.name, "' name the same block");
      }
    }
    const torch::Tensor& s = student_probe[r.student_index];
    if (s.dim() == 2) {
      if (block.length != 0 && block.length != s.size(1)) {
        fail(ErrorCode::InvalidArgument, "meal.blocks: '", block.name, "' is [N, ", s.size(1),
             "] and is compared as it is; its length cannot be ", block.length, " (leave it unset)");
      }
      r.length = s.size(1);
    } else {
      r.length = block.length != 0 ? block.length : s.size(2) * s.size(3);
    }
    if (cached_ && (s.dim() != 2 || config_.blocks.size() != 1)) {
      fail(ErrorCode::InvalidArgument, "MEAL without teacher models replays a soft-label cache, which holds the ensemble's logits "
           "only: meal.blocks must be [logits] (as MEAL V2's), got '", block.name, "'", config_.blocks.size() > 1 ? " among others" : "");
    }
    for (size_t k = 0; k < teachers_.size(); ++k) {
      const size_t index = block_index(*teachers_[k], block.name, "teacher " + std::to_string(k + 1));
      const torch::Tensor& t = teacher_probes[k][index];
      if (t.dim() != s.dim() || (s.dim() == 2 && t.size(1) != s.size(1))) {
        fail(ErrorCode::Shape, "meal.blocks: '", block.name, "' is ", t.sizes().slice(1), " in teacher ", k + 1, " (",
             teachers_[k]->spec.arch, ") but ", s.sizes().slice(1), " in the student (", student->spec.arch, ")");
      }
      r.teacher_index.push_back(index);
    }
    if (config_.adversarial && block.discriminator) discriminator_inputs.emplace_back(block.name, r.length);
    blocks_.push_back(std::move(r));
  }
  if (!discriminator_inputs.empty()) {
    adversary_ = std::make_shared<MealAdversary>(discriminator_inputs, config_.discriminator, trainer_->optimizer().config());
    adversary_->module().to(student->device);
    trainer_->attach("meal.", adversary_);
  }
}

std::vector<int64_t> MealDistiller::block_lengths() const {
  std::vector<int64_t> out;
  for (const Resolved& r : blocks_) out.push_back(r.length);
  return out;
}

std::vector<torch::Tensor> MealDistiller::student_blocks(const std::vector<torch::Tensor>& features) const {
  std::vector<torch::Tensor> out;
  for (const Resolved& r : blocks_) out.push_back(losses::align_block(features[r.student_index], r.length, config_.pooling));
  return out;
}

const std::vector<torch::Tensor>& MealDistiller::teacher_blocks(size_t teacher, const std::shared_ptr<const data::Batch>& batch,
                                                                const torch::Tensor& x) {
  if (cached_batch_.lock() != batch) {
    cached_teachers_.clear();
    cached_batch_ = batch;
  }
  auto hit = cached_teachers_.find(teacher);
  if (hit != cached_teachers_.end()) return hit->second;
  const ModelPtr& model = teachers_[teacher];
  torch::NoGradGuard no_grad;
  model->net->train(config_.teacher_train_mode);
  const std::vector<torch::Tensor> features = trainer_->features(*model, x.to(model->device));
  std::vector<torch::Tensor> aligned;
  for (const Resolved& r : blocks_) {
    aligned.push_back(losses::align_block(features[r.teacher_index[teacher]], r.length, config_.pooling)
                          .to(trainer_->student()->device));
  }
  return cached_teachers_.emplace(teacher, std::move(aligned)).first->second;
}

torch::Tensor MealDistiller::adversarial_loss(const std::vector<torch::Tensor>& student, const std::vector<torch::Tensor>& teacher,
                                              MealPhase phase) {
  torch::Tensor total = torch::zeros({}, student.front().options().dtype(torch::kFloat));
  for (size_t j = 0; j < blocks_.size(); ++j) {
    models::Discriminator* d = adversary_->find(blocks_[j].block.name);
    if (d == nullptr) continue;
    torch::Tensor s = student[j];
    if (phase == MealPhase::Reversal) s = models::reverse_gradient(s, config_.grl_scale);
    if (phase == MealPhase::Discriminator) s = s.detach();
    const torch::Tensor loss = phase == MealPhase::Student
                                   ? losses::generator_loss((*d)->forward(s))
                                   : losses::discriminator_loss((*d)->forward(s), (*d)->forward(teacher[j]));
    total = total + blocks_[j].block.adversarial_weight * loss;
  }
  return total;
}

StepStats MealDistiller::step(const std::shared_ptr<const data::Batch>& batch, const MealStepOptions& options) {
  const ModelPtr& student = trainer_->student();
  if (cached_ && (!batch->soft_indices.defined() || !batch->soft_logits.defined())) {
    fail(ErrorCode::InvalidArgument, "this MEAL step has no teacher models, so its batches must replay a soft-label cache with logits "
         "(distillery cache-teachers --logits)");
  }
  if (!cached_ && options.teachers.empty()) fail(ErrorCode::InvalidArgument, "a MEAL step needs at least one teacher index");
  for (int64_t k : options.teachers) {
    if (k < 0 || static_cast<size_t>(k) >= teachers_.size()) {
      fail(ErrorCode::InvalidArgument, "teacher index ", k, " is out of range: this MEAL run has ", teachers_.size(), " teacher(s)");
    }
  }
  if (!adversary_ && (options.phase == MealPhase::Discriminator || options.phase == MealPhase::Reversal)) {
    fail(ErrorCode::InvalidArgument, "the MEAL '", options.phase == MealPhase::Reversal ? "grl" : "discriminator",
         "' phase needs discriminators: enable meal.adversarial and give a block a discriminator");
  }
  std::vector<ModelHandle*> all{student.get()};
  for (const auto& t : teachers_) all.push_back(t.get());
  ModelLocks lock(all);
  std::unique_lock<std::mutex> adversary_lock;
  if (adversary_) adversary_lock = std::unique_lock<std::mutex>(adversary_->mutex());

  const int64_t largest_label = max_label(*batch);
  check_batch(*batch, largest_label, *student);
  for (const auto& t : teachers_) check_batch(*batch, largest_label, *t);
  const torch::Tensor x = data::normalize_images(*batch, student->device);
  const torch::Tensor y = batch->labels.to(student->device);

  // Per block: the selected teachers' aligned blocks, and their mean for the discriminator.
  std::vector<std::vector<torch::Tensor>> targets(blocks_.size());
  std::vector<torch::Tensor> consensus;
  if (cached_) {
    // softmax(log p) = p: the similarity loss takes the cached ensemble probabilities as one teacher's logits.
    const torch::Tensor p = losses::expand_soft_labels(batch->soft_indices, batch->soft_values, blocks_[0].length);
    targets[0].push_back(p.clamp_min(1e-12).log().to(student->device));
    consensus.push_back(batch->soft_logits.to(student->device));
  } else {
    for (int64_t k : options.teachers) {
      const std::vector<torch::Tensor>& aligned = teacher_blocks(static_cast<size_t>(k), batch, x);
      for (size_t j = 0; j < blocks_.size(); ++j) targets[j].push_back(aligned[j]);
    }
    for (const auto& t : targets) consensus.push_back(losses::teacher_consensus(t));
  }

  StepStats stats;
  stats.count = batch->labels.size(0);
  if (options.phase == MealPhase::Discriminator) {
    std::vector<torch::Tensor> s;
    {
      torch::NoGradGuard no_grad;
      FrozenBatchNormStats frozen(*student->net);
      student->net->train();
      s = student_blocks(trainer_->features(*student, x));
    }
    torch::AutoGradMode grad(true);
    const torch::Tensor loss = adversarial_loss(s, consensus, options.phase);
    stats.loss = stats.adversarial = loss.item<double>();
    trainer_->check_loss(stats.loss, options.discriminator_lr);
    adversary_->optimizer().set_lr(options.discriminator_lr);
    adversary_->optimizer().zero_grad();
    stats.skipped = !trainer_->backward_and_step(loss, {&adversary_->optimizer()});
    stats.loss_scale = trainer_->loss_scale();
    return stats;
  }

  torch::AutoGradMode grad(true);
  student->net->train();
  const std::vector<torch::Tensor> features = trainer_->features(*student, x);
  const torch::Tensor& logits = features.back();
  const std::vector<torch::Tensor> s = student_blocks(features);
  torch::Tensor similarity = torch::zeros({}, logits.options().dtype(torch::kFloat));
  for (size_t j = 0; j < blocks_.size(); ++j) {
    similarity = similarity + blocks_[j].block.weight * losses::similarity_loss(s[j], targets[j], config_.similarity, config_.temperature);
  }
  torch::Tensor total = similarity;
  torch::Tensor adversarial;
  if (adversary_) {
    adversarial = adversarial_loss(s, consensus, options.phase);
    total = total + adversarial;
  }
  torch::Tensor ce;
  if (config_.ce_weight > 0) {
    ce = F::cross_entropy(logits, y);
    total = total + config_.ce_weight * ce;
  }
  stats.loss = total.item<double>();
  trainer_->check_loss(stats.loss, options.lr);
  const bool step_discriminators = adversary_ && options.phase != MealPhase::Student;
  trainer_->optimizer().set_lr(options.lr);
  trainer_->optimizer().zero_grad();
  if (adversary_) {
    adversary_->optimizer().set_lr(options.discriminator_lr);
    adversary_->optimizer().zero_grad();
  }
  std::vector<Optimizer*> stepping{&trainer_->optimizer()};
  if (step_discriminators) stepping.push_back(&adversary_->optimizer());
  stats.skipped = !trainer_->backward_and_step(total, stepping);
  stats.loss_scale = trainer_->loss_scale();
  if (adversary_) adversary_->optimizer().zero_grad();
  trainer_->sync_buffers();
  stats.similarity = similarity.item<double>();
  if (adversarial.defined()) stats.adversarial = adversarial.item<double>();
  if (ce.defined()) stats.ce = ce.item<double>();
  stats.correct = logits.detach().argmax(1).eq(y).sum().item<int64_t>();
  return stats;
}

}  // namespace distillery::train

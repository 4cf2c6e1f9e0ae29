// MEAL and MEAL V2 (Shen et al.): block-wise similarity to the selected teachers' aligned blocks,
// plus one discriminator per block telling student from teacher, updated jointly (official), through
// a gradient-reversal layer, or alternately (a discriminator phase, then a student phase). Which
// teachers and which phase each step runs are policy, passed as the step's arguments. Without
// teacher models the batches replay a soft-label cache (MEAL V2: the ensemble's logits only).
#include <functional>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "losses/kd_losses.h"
#include "losses/meal_losses.h"
#include "models/layers.h"
#include "objectives/meal_adversary.h"
#include "train/trainer.h"

namespace distillery::objectives {

namespace F = torch::nn::functional;

namespace {

struct MealBlock {
  std::string name;                 // a feature name of the student and every teacher ("layer3", "logits")
  int64_t length = 0;               // aligned length; 0: the student block's H*W (logits: the class count)
  double weight = 1.0;              // gamma_j, on the similarity loss
  double adversarial_weight = 1.0;  // eta_j, on the discriminator loss
  bool discriminator = true;
};

enum class Phase {
  Joint,          // one step over student and discriminators on sim + D loss (official)
  Reversal,       // the same through a gradient-reversal layer: the student maximises the D loss
  Discriminator,  // discriminators only, on detached student blocks
  Student,        // student only, on sim + generator loss (student rows labelled teacher)
};

Phase parse_phase(const std::string& name) {
  if (name == "joint") return Phase::Joint;
  if (name == "grl") return Phase::Reversal;
  if (name == "discriminator") return Phase::Discriminator;
  if (name == "student") return Phase::Student;
  fail(ErrorCode::InvalidArgument, "MEAL step phase must be joint, grl, discriminator or student; got '", name, "'");
}

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
std::vector<torch::Tensor> probe(train::ModelHandle& model, const std::vector<int64_t>& input_shape) {
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
size_t block_index(const train::ModelHandle& model, const std::string& block, const std::string& role) {
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

std::vector<MealBlock> parse_blocks(const Settings& settings) {
  std::vector<MealBlock> out;
  for (const Settings& b : settings.objects("blocks")) {
    MealBlock block;
    block.name = b.string("name");
    block.length = b.integer("length", 0);
    block.weight = b.number("weight", block.weight);
    block.adversarial_weight = b.number("adversarialWeight", block.adversarial_weight);
    block.discriminator = b.boolean("discriminator", block.discriminator);
    out.push_back(std::move(block));
  }
  return out;
}

models::DiscriminatorOptions parse_discriminator(const Settings& settings) {
  models::DiscriminatorOptions d;
  d.divisors = settings.integers("divisors", d.divisors);
  d.min_width = settings.integer("minWidth", d.min_width);
  d.output_relu = settings.boolean("outputRelu", d.output_relu);
  return d;
}

class Meal : public train::Objective {
 public:
  explicit Meal(const train::ObjectiveSetup& setup);

  std::vector<train::ModelPtr> models() const override { return teachers_; }
  train::ObjectiveLoss compute(train::StepContext& c) override;
  nlohmann::json describe() const override;

 private:
  struct Resolved {
    MealBlock block;
    int64_t length;
    size_t student_index;
    std::vector<size_t> teacher_index;  // per teacher
  };
  std::vector<torch::Tensor> student_blocks(const std::vector<torch::Tensor>& features) const;
  const std::vector<torch::Tensor>& teacher_blocks(size_t teacher, train::StepContext& c);
  torch::Tensor adversarial_loss(const std::vector<torch::Tensor>& student, const std::vector<torch::Tensor>& teacher,
                                 Phase phase);

  std::vector<train::ModelPtr> teachers_;
  bool cached_ = false;  // no teacher models: batches replay a soft-label cache
  losses::Pooling pooling_;
  losses::Similarity similarity_;
  double temperature_;
  double ce_weight_;
  bool teacher_train_mode_;
  double grl_scale_;
  std::vector<Resolved> blocks_;
  std::shared_ptr<MealAdversary> adversary_;
  // Teacher blocks are computed once per batch, whatever the number of phases run on it.
  std::weak_ptr<const data::Batch> cached_batch_;
  std::unordered_map<size_t, std::vector<torch::Tensor>> cached_teachers_;
};

Meal::Meal(const train::ObjectiveSetup& setup)
    : teachers_(setup.models),
      cached_(setup.models.empty()),
      pooling_(losses::parse_pooling(setup.settings.string("pooling", "max"), "meal.pooling")),
      similarity_(losses::parse_similarity(setup.settings.string("similarity", "ce"), "meal.similarity")),
      temperature_(setup.settings.number("temperature", 1.0)),
      ce_weight_(setup.settings.number("ceWeight", 0.0)),
      teacher_train_mode_(setup.settings.boolean("teacherTrainMode", false)),
      grl_scale_(setup.settings.number("grlScale", 1.0)) {
  const train::ModelPtr& student = setup.trainer->student();
  const std::vector<MealBlock> blocks = parse_blocks(setup.settings);
  const bool adversarial = setup.settings.boolean("adversarial", true);
  const models::DiscriminatorOptions discriminator = parse_discriminator(setup.settings.object("discriminator"));
  const std::vector<int64_t> input_shape = setup.settings.integers("inputShape");
  if (blocks.empty()) fail(ErrorCode::InvalidArgument, "meal.blocks: name at least one block (e.g. \"logits\")");
  if (input_shape.size() != 3) {
    fail(ErrorCode::InvalidArgument, "MEAL needs the input shape [C, H, W] to size its blocks, got ", input_shape.size(),
         " numbers");
  }
  std::vector<train::ModelHandle*> all{student.get()};
  for (const auto& t : teachers_) all.push_back(t.get());
  std::vector<torch::Tensor> student_probe;
  std::vector<std::vector<torch::Tensor>> teacher_probes;
  {
    train::ModelLocks lock(all);
    student_probe = probe(*student, input_shape);
    for (const auto& t : teachers_) teacher_probes.push_back(probe(*t, input_shape));
  }

  std::vector<std::pair<std::string, int64_t>> discriminator_inputs;
  for (const MealBlock& block : blocks) {
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
    if (cached_ && (s.dim() != 2 || blocks.size() != 1)) {
      fail(ErrorCode::InvalidArgument,
           "MEAL without teacher models replays a soft-label cache, which holds the ensemble's logits "
           "only: meal.blocks must be [logits] (as MEAL V2's), got '",
           block.name, "'", blocks.size() > 1 ? " among others" : "");
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
    if (adversarial && block.discriminator) discriminator_inputs.emplace_back(block.name, r.length);
    blocks_.push_back(std::move(r));
  }
  if (!discriminator_inputs.empty()) {
    adversary_ = std::make_shared<MealAdversary>(discriminator_inputs, discriminator, setup.trainer->optimizer().config());
    adversary_->module().to(student->device);
    setup.trainer->attach("meal.", adversary_);
  }
}

nlohmann::json Meal::describe() const {
  nlohmann::json lengths = nlohmann::json::array();
  for (const Resolved& r : blocks_) lengths.push_back(r.length);
  return {{"teachers", teachers_.size()}, {"blockLengths", lengths}};
}

std::vector<torch::Tensor> Meal::student_blocks(const std::vector<torch::Tensor>& features) const {
  std::vector<torch::Tensor> out;
  for (const Resolved& r : blocks_) out.push_back(losses::align_block(features[r.student_index], r.length, pooling_));
  return out;
}

const std::vector<torch::Tensor>& Meal::teacher_blocks(size_t teacher, train::StepContext& c) {
  if (cached_batch_.lock() != c.batch) {
    cached_teachers_.clear();
    cached_batch_ = c.batch;
  }
  auto hit = cached_teachers_.find(teacher);
  if (hit != cached_teachers_.end()) return hit->second;
  const train::ModelPtr& model = teachers_[teacher];
  torch::NoGradGuard no_grad;
  model->net->train(teacher_train_mode_);
  const std::vector<torch::Tensor> features = c.trainer.features(*model, c.input_for(*model));
  std::vector<torch::Tensor> aligned;
  for (const Resolved& r : blocks_) {
    aligned.push_back(
        losses::align_block(features[r.teacher_index[teacher]], r.length, pooling_).to(c.trainer.student()->device));
  }
  return cached_teachers_.emplace(teacher, std::move(aligned)).first->second;
}

torch::Tensor Meal::adversarial_loss(const std::vector<torch::Tensor>& student, const std::vector<torch::Tensor>& teacher,
                                     Phase phase) {
  torch::Tensor total = torch::zeros({}, student.front().options().dtype(torch::kFloat));
  for (size_t j = 0; j < blocks_.size(); ++j) {
    models::Discriminator* d = adversary_->find(blocks_[j].block.name);
    if (d == nullptr) continue;
    torch::Tensor s = student[j];
    if (phase == Phase::Reversal) s = models::reverse_gradient(s, grl_scale_);
    if (phase == Phase::Discriminator) s = s.detach();
    const torch::Tensor loss = phase == Phase::Student ? losses::generator_loss((*d)->forward(s))
                                                       : losses::discriminator_loss((*d)->forward(s), (*d)->forward(teacher[j]));
    total = total + blocks_[j].block.adversarial_weight * loss;
  }
  return total;
}

train::ObjectiveLoss Meal::compute(train::StepContext& c) {
  const train::ModelPtr& student = c.trainer.student();
  const Phase phase = parse_phase(c.args.string("phase", "joint"));
  const std::vector<int64_t> selected = c.args.integers("teachers", {});
  const double discriminator_lr = c.args.number("discriminatorLr", c.lr);
  if (cached_ && (!c.batch->soft_indices.defined() || !c.batch->soft_logits.defined())) {
    fail(ErrorCode::InvalidArgument,
         "this MEAL step has no teacher models, so its batches must replay a soft-label cache with logits "
         "(distillery cache-teachers --logits)");
  }
  if (!cached_ && selected.empty()) fail(ErrorCode::InvalidArgument, "a MEAL step needs at least one teacher index");
  for (int64_t k : selected) {
    if (k < 0 || static_cast<size_t>(k) >= teachers_.size()) {
      fail(ErrorCode::InvalidArgument, "teacher index ", k, " is out of range: this MEAL run has ", teachers_.size(),
           " teacher(s)");
    }
  }
  if (!adversary_ && (phase == Phase::Discriminator || phase == Phase::Reversal)) {
    fail(ErrorCode::InvalidArgument, "the MEAL '", phase == Phase::Reversal ? "grl" : "discriminator",
         "' phase needs discriminators: enable meal.adversarial and give a block a discriminator");
  }

  // Per block: the selected teachers' aligned blocks, and their mean for the discriminator.
  std::vector<std::vector<torch::Tensor>> targets(blocks_.size());
  std::vector<torch::Tensor> consensus;
  if (cached_) {
    // softmax(log p) = p: the similarity loss takes the cached ensemble probabilities as one teacher's logits.
    const torch::Tensor p = losses::expand_soft_labels(c.batch->soft_indices, c.batch->soft_values, blocks_[0].length);
    targets[0].push_back(p.clamp_min(1e-12).log().to(student->device));
    consensus.push_back(c.batch->soft_logits.to(student->device));
  } else {
    for (int64_t k : selected) {
      const std::vector<torch::Tensor>& aligned = teacher_blocks(static_cast<size_t>(k), c);
      for (size_t j = 0; j < blocks_.size(); ++j) targets[j].push_back(aligned[j]);
    }
    for (const auto& t : targets) consensus.push_back(losses::teacher_consensus(t));
  }

  train::ObjectiveLoss out;
  if (phase == Phase::Discriminator) {
    std::vector<torch::Tensor> s;
    {
      torch::NoGradGuard no_grad;
      FrozenBatchNormStats frozen(*student->net);
      s = student_blocks(c.trainer.features(*student, c.x));
    }
    out.terms.push_back({"adversarial", adversarial_loss(s, consensus, phase)});
    out.student_steps = false;
    out.optimizers.push_back({&adversary_->optimizer(), discriminator_lr, true});
    return out;
  }

  const std::vector<torch::Tensor> features = c.trainer.features(*student, c.x);
  const torch::Tensor& logits = features.back();
  const std::vector<torch::Tensor> s = student_blocks(features);
  torch::Tensor similarity = torch::zeros({}, logits.options().dtype(torch::kFloat));
  for (size_t j = 0; j < blocks_.size(); ++j) {
    similarity = similarity + blocks_[j].block.weight * losses::similarity_loss(s[j], targets[j], similarity_, temperature_);
  }
  out.terms.push_back({"similarity", similarity});
  if (adversary_) {
    out.terms.push_back({"adversarial", adversarial_loss(s, consensus, phase)});
    out.optimizers.push_back({&adversary_->optimizer(), discriminator_lr, phase != Phase::Student});
  }
  if (ce_weight_ > 0) out.terms.push_back({"ce", F::cross_entropy(logits, c.y), ce_weight_});
  out.predictions = logits;
  return out;
}

}  // namespace

std::unique_ptr<train::Objective> make_meal(const train::ObjectiveSetup& setup) { return std::make_unique<Meal>(setup); }

}  // namespace distillery::objectives

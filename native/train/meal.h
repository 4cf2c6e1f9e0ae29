#pragma once
// MEAL and MEAL V2 distillation steps: selected teachers' aligned blocks as targets, block-wise
// similarity losses, one discriminator per block, and the three update schemes (joint, gradient
// reversal, alternating). Which teachers and which phase run are policy and come from TypeScript.
#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/dataset.h"
#include "losses/meal_losses.h"
#include "models/discriminator.h"
#include "train/model_handle.h"
#include "train/optimizer.h"
#include "train/stateful.h"
#include "train/trainer.h"

namespace distillery::train {

struct MealBlock {
  std::string name;        // a feature name of the student and every teacher ("layer3", "logits")
  int64_t length = 0;      // aligned length; 0: the student block's H*W (logits: the class count)
  double weight = 1.0;     // gamma_j, on the similarity loss
  double adversarial_weight = 1.0;  // eta_j, on the discriminator loss
  bool discriminator = true;
};

struct MealConfig {
  std::vector<MealBlock> blocks;
  losses::Pooling pooling = losses::Pooling::Max;  // official default
  losses::Similarity similarity = losses::Similarity::CrossEntropy;
  double temperature = 1.0;  // for the kl similarity
  bool adversarial = true;
  models::DiscriminatorOptions discriminator;
  double ce_weight = 0.0;  // CE on the given labels; 0 as the official code
  bool teacher_train_mode = false;
  double grl_scale = 1.0;
  std::vector<int64_t> input_shape;  // C, H, W: probes the block shapes once at construction
};

enum class MealPhase {
  Joint,          // one step over student and discriminators on sim + D loss (official)
  Reversal,       // the same through a gradient-reversal layer: the student maximises the D loss
  Discriminator,  // discriminators only, on detached student blocks
  Student,        // student only, on sim + generator loss (student rows labelled teacher)
};
MealPhase parse_meal_phase(const std::string& name);

struct MealStepOptions {
  MealPhase phase = MealPhase::Joint;
  std::vector<int64_t> teachers;  // indices into the distiller's teachers; several are averaged
  double lr = 0.1;
  double discriminator_lr = 0.1;
};

/** The discriminators and their optimizer; checkpointed with the student through Trainer::attach. */
class MealAdversary : public Stateful {
 public:
  MealAdversary(const std::vector<std::pair<std::string, int64_t>>& inputs, const models::DiscriminatorOptions& options,
                const OptimizerConfig& optimizer);
  io::TensorList state(const std::string& prefix) override;
  void load_state(const io::TensorList& tensors, const std::string& prefix) override;
  void distribute(const std::shared_ptr<dist::ProcessGroup>& group, const dist::SyncOptions& options) override;

  /** The discriminator of block `name`, or nullptr when that block has none. */
  models::Discriminator* find(const std::string& name);
  torch::nn::Module& module() { return *module_; }
  Optimizer& optimizer() { return *optimizer_; }
  std::mutex& mutex() { return mutex_; }

 private:
  std::shared_ptr<torch::nn::Module> module_;
  std::unordered_map<std::string, models::Discriminator> by_name_;
  std::unique_ptr<Optimizer> optimizer_;
  std::mutex mutex_;
};

class MealDistiller {
 public:
  MealDistiller(std::shared_ptr<Trainer> trainer, std::vector<ModelPtr> teachers, MealConfig config);

  /** One fused unit of work (see MealPhase) on `batch`; teacher blocks are reused across phases of one batch. */
  StepStats step(const std::shared_ptr<const data::Batch>& batch, const MealStepOptions& options);

  size_t teacher_count() const { return teachers_.size(); }
  /** Aligned length of each configured block (the discriminators' input sizes). */
  std::vector<int64_t> block_lengths() const;

 private:
  struct Resolved {
    MealBlock block;
    int64_t length;
    size_t student_index;
    std::vector<size_t> teacher_index;  // per teacher
  };
  std::vector<torch::Tensor> student_blocks(const std::vector<torch::Tensor>& features) const;
  const std::vector<torch::Tensor>& teacher_blocks(size_t teacher, const std::shared_ptr<const data::Batch>& batch,
                                                   const torch::Tensor& x);
  torch::Tensor adversarial_loss(const std::vector<torch::Tensor>& student, const std::vector<torch::Tensor>& teacher,
                                 MealPhase phase);

  std::shared_ptr<Trainer> trainer_;
  std::vector<ModelPtr> teachers_;
  bool cached_ = false;  // no teacher models: batches replay a soft-label cache
  MealConfig config_;
  std::vector<Resolved> blocks_;
  std::shared_ptr<MealAdversary> adversary_;
  std::weak_ptr<const data::Batch> cached_batch_;
  std::unordered_map<size_t, std::vector<torch::Tensor>> cached_teachers_;
};

}  // namespace distillery::train

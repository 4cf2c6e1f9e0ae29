#pragma once
// Fused training steps: one call runs teacher forwards, the student forward, the losses, backward
// and the optimizer step, and returns plain numbers. Callers (the addon's workers) run it off the
// JS thread; everything here is synchronous C++.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/process_group.h"
#include "dist/sync_batch_norm.h"
#include "train/model_handle.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "train/stateful.h"

namespace distillery::train {

struct StepStats {
  double loss = 0;
  double ce = 0;
  double kd = 0;
  double similarity = 0;   // MEAL: weighted block similarity
  double adversarial = 0;  // MEAL: weighted discriminator (or generator) loss
  double gates = 0;        // student search: the L1 norm of the gates
  int64_t correct = 0;  // top-1 hits of the student on the (augmented) batch
  int64_t count = 0;
  bool skipped = false;    // the loss scaler found inf/NaN gradients and skipped the update
  double loss_scale = 0;   // the scale after this step (0: no loss scaling)
};

struct KdOptions {
  double temperature = 4.0;
  double ce_weight = 0.1;
  double kd_weight = 0.9;
};

struct OneStepOptions {
  double temperature = 3.0;
  double kl_weight = 1.0;  // the ramp-up w(epoch), computed by the caller
};

struct SearchStepOptions {
  double temperature = 4.0;
  double l1 = 5e-2;  // lambda, the weight of the L1 norm of the gates
};

using Metadata = std::map<std::string, std::string>;

struct DistributedOptions {
  bool sync_batch_norm = false;  // BatchNorm statistics over every rank's samples
  dist::SyncOptions buckets;
};

class Trainer {
 public:
  Trainer(ModelPtr student, const OptimizerConfig& config);

  /** Cross-entropy on the labels. */
  StepStats supervised_step(const data::Batch& batch, double lr);
  /** Hinton KD from the averaged teachers (eval mode, no grad) plus weighted CE. */
  StepStats kd_step(const data::Batch& batch, const std::vector<ModelPtr>& teachers, const KdOptions& options, double lr);

  /** Hinton KD from soft labels the batch replays from a soft-label cache (no teacher runs): the
   *  stored top-k probabilities, the remaining mass spread evenly over the other classes. */
  StepStats kd_cached_step(const data::Batch& batch, const KdOptions& options, double lr);

  /** ONE: CE on every branch and the gated ensemble plus kl_weight * T^2 KL(ensemble || branch); needs a multi-branch student. */
  StepStats one_step(const data::Batch& batch, const OneStepOptions& options, double lr);

  /**
   * Student search: T^2 KL(teacher || gated student) + l1 * sum |gates|, the student (a gated
   * CIFAR ResNet) in eval mode so its BatchNorm keeps the teacher's statistics; only gates learn.
   */
  StepStats search_step(const data::Batch& batch, const ModelPtr& teacher, const SearchStepOptions& options, double lr);

  /** Atomically writes model, optimizer and RNG state with the caller's metadata. */
  void save_checkpoint(const std::string& path, const Metadata& metadata);
  /** Restores what save_checkpoint wrote (strict on model weights) and returns its metadata. */
  Metadata load_checkpoint(const std::string& path);

  /**
   * Runs forward passes under autocast at `precision`; with `scaler`, losses are scaled before
   * backward and a step whose gradients overflow is skipped (StepStats::skipped).
   */
  void set_precision(Precision precision, const LossScalerOptions* scaler);
  /** `model`'s logits for `x` under this trainer's autocast (the student's with SyncBatchNorm when on), as float32. */
  torch::Tensor forward(ModelHandle& model, const torch::Tensor& x) const;
  /** `model`'s block outputs for `x`, as forward() runs it, as float32. */
  std::vector<torch::Tensor> features(ModelHandle& model, const torch::Tensor& x) const;
  /**
   * Backward of `loss` (scaled when a scaler is set), then a step of each of `optimizers` on
   * averaged, unscaled gradients; false when the scaler found an overflow and skipped the step.
   */
  bool backward_and_step(const torch::Tensor& loss, const std::vector<Optimizer*>& optimizers);
  /** The loss scale now, or 0 without loss scaling. */
  double loss_scale() const { return scaler_ ? scaler_->scale() : 0.0; }

  /** Adds state saved and restored with every checkpoint, its tensors named "<prefix>...". */
  void attach(const std::string& prefix, std::shared_ptr<Stateful> part);

  /**
   * Makes this trainer one rank of data-parallel training (every rank calls it): the student and
   * attached state take rank 0's weights, and every step averages gradients over the ranks.
   */
  void distribute(std::shared_ptr<dist::ProcessGroup> group, const DistributedOptions& options);
  const std::shared_ptr<dist::ProcessGroup>& group() const { return group_; }
  /** The group training-mode BatchNorm synchronises over (a SyncBatchNormScope's argument), or nullptr. */
  dist::ProcessGroup* sync_batch_norm_group() const { return options_.sync_batch_norm ? group_.get() : nullptr; }
  /**
   * E_NAN_LOSS unless the loss is finite on every rank; distributed, all ranks agree (one small
   * all-reduce) so that none waits forever for a rank that stopped, and the error names the ranks.
   */
  void check_loss(double value, double lr);
  /** Distributed without SyncBatchNorm: gives every rank rank 0's BatchNorm running statistics, as DDP does. */
  void sync_buffers();

  const ModelPtr& student() const { return student_; }
  Optimizer& optimizer() { return optimizer_; }

 private:
  StepStats apply(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels, double lr);
  dist::ProcessGroup* sync_group_for(const ModelHandle& model) const;

  ModelPtr student_;
  Optimizer optimizer_;
  std::vector<std::pair<std::string, std::shared_ptr<Stateful>>> attached_;
  std::shared_ptr<dist::ProcessGroup> group_;
  DistributedOptions options_;
  Precision precision_ = Precision::Float32;
  std::shared_ptr<LossScaler> scaler_;
};

}  // namespace distillery::train

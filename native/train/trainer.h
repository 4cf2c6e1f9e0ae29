#pragma once
// The student's trainer: one fused step of any Objective (its loss terms; the rest is written here
// once), checkpoints, precision and data parallelism. Callers (the addon's workers) run it off the
// JS thread; everything here is synchronous C++ and names no method.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "distributed/process_group.h"
#include "distributed/sync_batch_norm.h"
#include "train/model_handle.h"
#include "train/objective.h"
#include "train/optimizer.h"
#include "train/precision.h"
#include "train/stateful.h"

namespace distillery::train {

/** What one step reports: the minimised total, each named term (unweighted), and train hits. */
struct StepStats {
  double loss = 0;
  std::vector<std::pair<std::string, double>> terms;  // in the objective's order
  int64_t correct = 0;                                // top-1 hits of the objective's predictions on the (augmented) batch
  int64_t count = 0;
  bool skipped = false;   // the loss scaler found inf/NaN gradients and skipped the update
  double loss_scale = 0;  // the scale after this step (0: no loss scaling)
};

using Metadata = std::map<std::string, std::string>;

struct DistributedOptions {
  bool sync_batch_norm = false;  // BatchNorm statistics over every rank's samples
  distributed::SyncOptions buckets;
};

/** What a forward pass under a trainer runs with: its autocast, and SyncBatchNorm when it is the
 *  student's (a teacher's BatchNorm keeps its own statistics). */
struct ForwardScope {
  ForwardScope(torch::Device device, Precision precision, distributed::ProcessGroup* sync_group)
      : amp(device, precision), sync_bn(sync_group) {}
  AutocastScope amp;
  distributed::SyncBatchNormScope sync_bn;
};

class Trainer {
 public:
  Trainer(ModelPtr student, const OptimizerConfig& config);

  /**
   * One optimizer step of `objective` on `batch` at learning rate `lr`, with this step's `args`:
   * everything but the loss terms (locks, checks, normalisation, train mode, autocast, loss scaling,
   * the finite-loss check, gradient averaging, the optimizer steps) is done here, once for all methods.
   */
  StepStats step(Objective& objective, const std::shared_ptr<const data::Batch>& batch, double lr, const Settings& args);

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
  /** Runs `fn` (a forward of `model` that forward() and features() do not cover) under this trainer's scope. */
  template <typename Fn>
  auto under_scope(const ModelHandle& model, Fn&& fn) const {
    ForwardScope scope(model.device, precision_, sync_group_for(model));
    return fn();
  }
  /** The loss scale now, or 0 without loss scaling. */
  double loss_scale() const { return scaler_ ? scaler_->scale() : 0.0; }

  /** Adds state saved and restored with every checkpoint, its tensors named "<prefix>...". */
  void attach(const std::string& prefix, std::shared_ptr<Stateful> part);

  /**
   * Makes this trainer one rank of data-parallel training (every rank calls it): the student and
   * attached state take rank 0's weights, and every step averages gradients over the ranks.
   */
  void distribute(std::shared_ptr<distributed::ProcessGroup> group, const DistributedOptions& options);
  const std::shared_ptr<distributed::ProcessGroup>& group() const { return group_; }
  /** The group training-mode BatchNorm synchronises over (a SyncBatchNormScope's argument), or nullptr. */
  distributed::ProcessGroup* sync_batch_norm_group() const { return options_.sync_batch_norm ? group_.get() : nullptr; }

  const ModelPtr& student() const { return student_; }
  Optimizer& optimizer() { return optimizer_; }

 private:
  /**
   * Backward of `loss` (scaled when a scaler is set), then a step of each of `optimizers` on
   * averaged, unscaled gradients; false when the scaler found an overflow and skipped the step.
   */
  bool backward_and_step(const torch::Tensor& loss, const std::vector<Optimizer*>& optimizers);
  /**
   * E_NAN_LOSS unless the loss is finite on every rank; distributed, all ranks agree (one small
   * all-reduce) so that none waits forever for a rank that stopped, and the error names the ranks.
   */
  void check_loss(double value, double lr);
  /** Distributed without SyncBatchNorm: gives every rank rank 0's BatchNorm running statistics, as DDP does. */
  void sync_buffers();
  distributed::ProcessGroup* sync_group_for(const ModelHandle& model) const;

  ModelPtr student_;
  Optimizer optimizer_;
  std::vector<std::pair<std::string, std::shared_ptr<Stateful>>> attached_;
  std::shared_ptr<distributed::ProcessGroup> group_;
  DistributedOptions options_;
  Precision precision_ = Precision::Float32;
  std::shared_ptr<LossScaler> scaler_;
};

}  // namespace distillery::train

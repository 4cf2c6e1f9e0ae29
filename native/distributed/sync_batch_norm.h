#pragma once
// SyncBatchNorm: training-mode BatchNorm whose batch statistics are taken over every rank's
// samples, so N ranks with batch B normalise as one process with batch N*B would. The zoo's
// BatchNorm2d layers switch to it while a SyncBatchNormScope is alive on the stepping thread.
#include <torch/torch.h>

#include "distributed/process_group.h"

namespace distillery::distributed {

/** While alive, training-mode BatchNorm2d layers stepped on this thread synchronise over `group`. */
class SyncBatchNormScope {
 public:
  explicit SyncBatchNormScope(ProcessGroup* group);
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;

 private:
  ProcessGroup* previous_;
};

/** The group of the innermost live scope on this thread, or nullptr. */
ProcessGroup* sync_batch_norm_group();

/**
 * Batch normalisation of NCHW `x` with per-channel mean and biased variance over all ranks (sums
 * all-reduced in float64, gradients all-reduced in backward); updates the running statistics with
 * the unbiased variance as BatchNorm does, with `momentum` (the caller counts batches).
 */
torch::Tensor sync_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              torch::Tensor& running_mean, torch::Tensor& running_var, double momentum, double eps,
                              ProcessGroup& group);

}  // namespace distillery::distributed

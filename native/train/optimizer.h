#pragma once
// Optimizers over a network's parameters, with state that round-trips through checkpoints by
// parameter name. The learning rate is policy and comes from TypeScript on every step.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distributed/gradient_sync.h"

namespace distillery::train {

struct OptimizerConfig {
  std::string type = "sgd";  // "sgd" | "adamw"
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 5e-4;
  bool no_decay_bn_bias = false;  // exempt 1-d tensors (BatchNorm scales and shifts, biases) from decay
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class Optimizer {
 public:
  Optimizer(const torch::nn::Module& module, const OptimizerConfig& config);

  void set_lr(double lr);
  /** Clears gradients; when distributed, also readies the gradient reduction of the coming backward. */
  void zero_grad();
  /** Steps; when distributed, on gradients averaged over the ranks first. */
  void step();
  /** Distributed: waits for this backward's gradient averaging (step() does it too); otherwise nothing. */
  void synchronize();
  /** The parameters this optimizer updates. */
  std::vector<torch::Tensor> parameters() const;
  /** Averages gradients over `group` from now on (DDP); every rank must call it, in the same order. */
  void distribute(std::shared_ptr<distributed::ProcessGroup> group, const distributed::SyncOptions& options);
  const OptimizerConfig& config() const { return config_; }

  /** Per-parameter state as "<prefix><param>.<slot>" tensors (momentum_buffer, exp_avg, ...). */
  NamedTensors state(const std::string& prefix) const;
  /** Restores what state() wrote; parameters with no entry start fresh. */
  void load_state(const NamedTensors& tensors, const std::string& prefix);

 private:
  OptimizerConfig config_;
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::unique_ptr<torch::optim::Optimizer> impl_;
  std::unique_ptr<distributed::GradientSync> sync_;
};

}  // namespace distillery::train

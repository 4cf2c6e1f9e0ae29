#pragma once
// Optimizers over a network's parameters, with state that round-trips through checkpoints by
// parameter name. The learning rate is policy and comes from TypeScript on every step.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  void zero_grad();
  void step();
  const OptimizerConfig& config() const { return config_; }

  /** Per-parameter state as "<prefix><param>.<slot>" tensors (momentum_buffer, exp_avg, ...). */
  NamedTensors state(const std::string& prefix) const;
  /** Restores what state() wrote; parameters with no entry start fresh. */
  void load_state(const NamedTensors& tensors, const std::string& prefix);

 private:
  OptimizerConfig config_;
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::unique_ptr<torch::optim::Optimizer> impl_;
};

}  // namespace distillery::train

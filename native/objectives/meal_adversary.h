#pragma once
// MEAL's discriminators (one per adversarial block) and their optimizer: state of the MEAL
// objective that travels in the student's checkpoint (Trainer::attach), so a resumed run continues
// the adversarial game where it stopped.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/discriminator.h"
#include "train/optimizer.h"
#include "train/stateful.h"

namespace distillery::objectives {

class MealAdversary : public train::Stateful {
 public:
  /** One discriminator per (block name, input width). */
  MealAdversary(const std::vector<std::pair<std::string, int64_t>>& inputs, const models::DiscriminatorOptions& options,
                const train::OptimizerConfig& optimizer);
  io::TensorList state(const std::string& prefix) override;
  void load_state(const io::TensorList& tensors, const std::string& prefix) override;
  void distribute(const std::shared_ptr<distributed::ProcessGroup>& group, const distributed::SyncOptions& options) override;

  /** The discriminator of block `name`, or nullptr when that block has none. */
  models::Discriminator* find(const std::string& name);
  torch::nn::Module& module() { return *module_; }
  train::Optimizer& optimizer() { return *optimizer_; }

 private:
  std::shared_ptr<torch::nn::Module> module_;
  std::unordered_map<std::string, models::Discriminator> by_name_;
  std::unique_ptr<train::Optimizer> optimizer_;
};

}  // namespace distillery::objectives

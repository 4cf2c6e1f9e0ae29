#include "objectives/meal_adversary.h"

#include "io/module_state.h"

namespace distillery::objectives {

namespace {
constexpr const char* kDiscriminatorPrefix = "disc.";
constexpr const char* kOptimizerPrefix = "dopt.";
}  // namespace

MealAdversary::MealAdversary(const std::vector<std::pair<std::string, int64_t>>& inputs,
                             const models::DiscriminatorOptions& options, const train::OptimizerConfig& optimizer)
    : module_(std::make_shared<torch::nn::Module>("MealDiscriminators")) {
  for (const auto& [name, features] : inputs) {
    by_name_.emplace(name, module_->register_module(name, models::Discriminator(features, options)));
  }
  optimizer_ = std::make_unique<train::Optimizer>(*module_, optimizer);
}

// The trainer calls these with the student locked, as it does its steps, so they never overlap one.
io::TensorList MealAdversary::state(const std::string& prefix) {
  io::TensorList out = io::module_state(*module_, prefix + kDiscriminatorPrefix);
  for (auto& entry : optimizer_->state(prefix + kOptimizerPrefix)) out.push_back(std::move(entry));
  return out;
}

void MealAdversary::load_state(const io::TensorList& tensors, const std::string& prefix) {
  io::load_module_state(*module_, tensors, prefix + kDiscriminatorPrefix, true);
  optimizer_->load_state(tensors, prefix + kOptimizerPrefix);
}

void MealAdversary::distribute(const std::shared_ptr<distributed::ProcessGroup>& group, const distributed::SyncOptions& options) {
  distributed::broadcast_module(*group, *module_);
  optimizer_->distribute(group, options);
}

models::Discriminator* MealAdversary::find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

}  // namespace distillery::objectives

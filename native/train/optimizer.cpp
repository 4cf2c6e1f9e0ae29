#include "train/optimizer.h"

#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.h"

namespace distillery::train {

namespace {
// torch::optim keys per-parameter state by the parameter's TensorImpl: as its address printed to a
// string up to LibTorch 2.0, as the pointer itself since; the key type tells which.
using StateKey = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

template <typename Key>
Key key_of(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream out;
    out << p.unsafeGetTensorImpl();
    return out.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

StateKey state_key(const torch::Tensor& p) { return key_of<StateKey>(p); }
}  // namespace

Optimizer::Optimizer(const torch::nn::Module& module, const OptimizerConfig& config) : config_(config) {
  if (!(config.lr >= 0)) fail(ErrorCode::InvalidArgument, "optimizer lr must be >= 0, got ", config.lr);
  if (!(config.weight_decay >= 0)) fail(ErrorCode::InvalidArgument, "weight decay must be >= 0, got ", config.weight_decay);
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : module.named_parameters(true)) {
    if (!item.value().requires_grad()) continue;
    params_.emplace_back(item.key(), item.value());
    (config.no_decay_bn_bias && item.value().dim() <= 1 ? no_decay : decay).push_back(item.value());
  }
  if (config.type == "sgd") {
    if (config.nesterov && config.momentum <= 0) {
      fail(ErrorCode::InvalidArgument, "nesterov needs momentum > 0, got momentum ", config.momentum);
    }
    auto options = [&](double wd) {
      return std::make_unique<torch::optim::SGDOptions>(
          torch::optim::SGDOptions(config.lr).momentum(config.momentum).nesterov(config.nesterov).weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, options(config.weight_decay));
    if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
    impl_ = std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(config.lr));
  } else if (config.type == "adamw") {
    auto options = [&](double wd) {
      return std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(config.lr).betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, options(config.weight_decay));
    if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
    impl_ = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(config.lr));
  } else {
    fail(ErrorCode::InvalidArgument, "unknown optimizer '", config.type, "': use \"sgd\" or \"adamw\"");
  }
}

void Optimizer::set_lr(double lr) {
  if (!(lr >= 0)) fail(ErrorCode::InvalidArgument, "learning rate must be >= 0, got ", lr);
  for (auto& group : impl_->param_groups()) group.options().set_lr(lr);
}

void Optimizer::zero_grad() {
  // Setting grads to None (as PyTorch 2 does by default) saves a memset per parameter each step.
  for (auto& entry : params_) entry.second.mutable_grad().reset();
  if (sync_) sync_->prepare();
}

void Optimizer::step() {
  synchronize();
  impl_->step();
}

void Optimizer::synchronize() {
  if (sync_) sync_->finish();
}

std::vector<torch::Tensor> Optimizer::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& entry : params_) out.push_back(entry.second);
  return out;
}

void Optimizer::distribute(std::shared_ptr<distributed::ProcessGroup> group, const distributed::SyncOptions& options) {
  sync_ = std::make_unique<distributed::GradientSync>(std::move(group), parameters(), options);
}

NamedTensors Optimizer::state(const std::string& prefix) const {
  NamedTensors out;
  const auto& state = impl_->state();
  for (const auto& [name, param] : params_) {
    const auto it = state.find(state_key(param));
    if (it == state.end()) continue;
    const std::string base = prefix + name + ".";
    if (config_.type == "sgd") {
      const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
      if (s.momentum_buffer().defined()) out.emplace_back(base + "momentum_buffer", s.momentum_buffer());
    } else {
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      out.emplace_back(base + "step", torch::tensor(s.step(), torch::kInt64));
      out.emplace_back(base + "exp_avg", s.exp_avg());
      out.emplace_back(base + "exp_avg_sq", s.exp_avg_sq());
    }
  }
  return out;
}

void Optimizer::load_state(const NamedTensors& tensors, const std::string& prefix) {
  std::map<std::string, torch::Tensor> by_name;
  for (const auto& [name, t] : tensors) {
    if (name.rfind(prefix, 0) == 0) by_name.emplace(name.substr(prefix.size()), t);
  }
  auto find = [&](const std::string& name) -> torch::Tensor {
    const auto it = by_name.find(name);
    return it == by_name.end() ? torch::Tensor() : it->second;
  };
  auto& state = impl_->state();
  for (const auto& [name, param] : params_) {
    auto match = [&, &name = name, &param = param](const std::string& slot) -> torch::Tensor {
      torch::Tensor t = find(name + "." + slot);
      if (t.defined() && !t.sizes().equals(param.sizes())) {
        fail(ErrorCode::Weights, "optimizer state ", prefix, name, ".", slot, ": expected ", param.sizes(), ", got ", t.sizes());
      }
      return t.defined() ? t.to(param.device(), param.scalar_type()).clone() : t;
    };
    if (config_.type == "sgd") {
      torch::Tensor buffer = match("momentum_buffer");
      if (!buffer.defined()) continue;
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(buffer);
      state[state_key(param)] = std::move(s);
    } else {
      torch::Tensor exp_avg = match("exp_avg");
      torch::Tensor exp_avg_sq = match("exp_avg_sq");
      torch::Tensor step = find(name + ".step");
      if (!exp_avg.defined() || !exp_avg_sq.defined() || !step.defined()) continue;
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(step.item<int64_t>());
      s->exp_avg(exp_avg);
      s->exp_avg_sq(exp_avg_sq);
      state[state_key(param)] = std::move(s);
    }
  }
}

}  // namespace distillery::train

#include "models/subnet.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace distillery::models {
namespace {

constexpr int64_t kStages = 3;

std::string block_name(int64_t stage, int64_t block) {
  return "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
}

struct GatedBlock {
  torch::Tensor effective;  // |channel gate| * |block gate|, float64 on the CPU
  bool removable = false;   // has a block gate: its shortcut is the identity
};

/** The gated blocks of each stage, found by their gate names. */
std::vector<std::vector<GatedBlock>> gated_blocks(const NetImpl& gated) {
  const auto params = gated.named_parameters();
  std::vector<std::vector<GatedBlock>> stages(kStages);
  for (int64_t s = 0; s < kStages; ++s) {
    for (int64_t b = 0;; ++b) {
      const torch::Tensor* gate = params.find(block_name(s, b) + "channel_gate");
      if (gate == nullptr) break;
      GatedBlock block;
      block.effective = gate->detach().to(torch::kCPU, torch::kDouble).abs();
      if (const torch::Tensor* h = params.find(block_name(s, b) + "block_gate")) {
        block.effective = block.effective * h->detach().to(torch::kCPU, torch::kDouble).abs();
        block.removable = true;
      }
      stages[s].push_back(std::move(block));
    }
    if (stages[s].empty()) {
      fail(ErrorCode::InvalidArgument, "not a gated CIFAR ResNet: no ", block_name(s, 0),
           "channel_gate (build the search network with gated: true)");
    }
  }
  return stages;
}

std::vector<int64_t> to_vector(const torch::Tensor& indices) {
  const torch::Tensor t = indices.to(torch::kLong).contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

}  // namespace

std::vector<double> gate_values(const NetImpl& gated) {
  std::vector<double> values;
  for (const auto& stage : gated_blocks(gated)) {
    for (const auto& block : stage) {
      const torch::Tensor e = block.effective.contiguous();
      values.insert(values.end(), e.data_ptr<double>(), e.data_ptr<double>() + e.numel());
    }
  }
  std::sort(values.begin(), values.end());
  return values;
}

SubnetPlan plan_subnet(const NetImpl& gated, double threshold) {
  const auto stages = gated_blocks(gated);
  SubnetPlan plan;
  plan.blocks.resize(kStages);
  plan.source.resize(kStages);
  plan.channels.resize(kStages);
  for (int64_t s = 0; s < kStages; ++s) {
    for (size_t b = 0; b < stages[s].size(); ++b) {
      const GatedBlock& block = stages[s][b];
      std::vector<int64_t> kept = to_vector(torch::nonzero(block.effective >= threshold).flatten());
      if (kept.empty()) {
        if (block.removable) continue;
        kept.push_back(block.effective.argmax().item<int64_t>());
      }
      plan.source[s].push_back(static_cast<int64_t>(b));
      plan.channels[s].push_back(kept);
      plan.blocks[s].push_back(static_cast<int64_t>(kept.size()));
    }
    if (plan.source[s].empty()) {
      int64_t best = 0;
      for (size_t b = 1; b < stages[s].size(); ++b) {
        if (stages[s][b].effective.max().item<double>() > stages[s][best].effective.max().item<double>())
          best = static_cast<int64_t>(b);
      }
      plan.source[s].push_back(best);
      plan.channels[s].push_back({stages[s][best].effective.argmax().item<int64_t>()});
      plan.blocks[s].push_back(1);
    }
  }
  return plan;
}

void extract_subnet(const NetImpl& gated, const SubnetPlan& plan, NetImpl& target) {
  const auto target_params = target.named_parameters();
  for (int64_t s = 0; s < kStages; ++s) {
    int64_t count = 0;
    while (target_params.find(block_name(s, count) + "conv1.weight") != nullptr) ++count;
    if (count != static_cast<int64_t>(plan.source[s].size())) {
      fail(ErrorCode::Weights, "the extracted network has ", count, " block(s) in stage ", s + 1, ", the plan ",
           plan.source[s].size(), ": build it with the plan's blocks");
    }
  }
  auto params = gated.named_parameters();
  auto buffers = gated.named_buffers();
  const auto source = [&](const std::string& name) -> torch::Tensor {
    if (const torch::Tensor* t = params.find(name)) return t->detach();
    if (const torch::Tensor* t = buffers.find(name)) return *t;
    fail(ErrorCode::Weights, "the gated network has no '", name, "' for the extracted network");
  };
  // What each tensor of `target` is made of: the gated network's tensor of the same role, with
  // the kept channels selected and the gates folded in.
  const auto value = [&](const std::string& name) -> torch::Tensor {
    for (int64_t s = 0; s < kStages; ++s) {
      for (size_t j = 0; j < plan.source[s].size(); ++j) {
        const std::string to = block_name(s, static_cast<int64_t>(j));
        if (name.rfind(to, 0) != 0) continue;
        const std::string from = block_name(s, plan.source[s][j]);
        const std::string part = name.substr(to.size());
        const torch::Tensor src = source(from + part);
        const torch::Tensor kept = torch::tensor(plan.channels[s][j], torch::kLong).to(src.device());
        const torch::Tensor g = source(from + "channel_gate").index_select(0, kept);
        const torch::Tensor* h = params.find(from + "block_gate");
        if (part == "conv1.weight" || part == "bn1.running_mean" || part == "bn1.running_var") return src.index_select(0, kept);
        if (part == "bn1.weight" || part == "bn1.bias") return src.index_select(0, kept) * g;
        if (part == "conv2.weight") return src.index_select(1, kept);
        if ((part == "bn2.weight" || part == "bn2.bias") && h != nullptr) return src * h->detach();
        return src;
      }
    }
    return source(name);
  };
  torch::NoGradGuard no_grad;
  const auto copy_all = [&](auto items) {
    for (auto& item : items) {
      const torch::Tensor v = value(item.key());
      if (!v.sizes().equals(item.value().sizes())) {
        fail(ErrorCode::Weights, "the extracted network's '", item.key(), "' is ", item.value().sizes(), " but the plan gives ",
             v.sizes(), ": build it with the plan's blocks");
      }
      item.value().copy_(v);
    }
  };
  copy_all(target.named_parameters());
  copy_all(target.named_buffers());
}

}  // namespace distillery::models

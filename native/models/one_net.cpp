#include "models/one_net.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "io/module_state.h"
#include "models/layers.h"

namespace distillery::models {

namespace nn = torch::nn;

OneNetImpl::OneNetImpl(const ModelSpec& spec, int64_t branches) {
  if (branches < 2) fail(ErrorCode::InvalidArgument, "ONE needs at least 2 branches, got ", branches);
  ModelSpec plain = spec;
  plain.branches = 0;
  // Each branch starts as a whole network, so its last stage gets its own random init, as the
  // reference's separately constructed branch layers do; the copies' trunks are then dropped.
  for (int64_t i = 0; i < branches; ++i) branches_.push_back(build_staged_model(plain));
  for (size_t i = 1; i < branches_.size(); ++i) branches_[i]->share_trunk(*branches_.front());

  // Parameter names: the trunk under the plain network's own names, branch i's modules under
  // "branches.<i>.", the gate under "gate.".
  const std::vector<std::string> branch_children = branches_.front()->branch_children();
  const auto in_branch = [&](const std::string& name) {
    return std::find(branch_children.begin(), branch_children.end(), name) != branch_children.end();
  };
  for (const auto& child : branches_.front()->named_children()) {
    if (!in_branch(child.key())) register_module(child.key(), child.value());
  }
  nn::ModuleList list;
  for (const auto& net : branches_) {
    auto holder = std::make_shared<nn::Module>();
    for (const auto& child : net->named_children()) {
      if (in_branch(child.key())) holder->register_module(child.key(), child.value());
    }
    list->push_back(holder);
  }
  register_module("branches", list);
  auto gate = std::make_shared<nn::Module>();
  gate_fc_ = gate->register_module("fc", nn::Linear(branches_.front()->trunk_channels(), branches));
  gate_bn_ = gate->register_module("bn", nn::BatchNorm1d(branches));
  register_module("gate", gate);
}

OneOutputs OneNetImpl::run(const torch::Tensor& x) {
  std::vector<torch::Tensor> taps;
  const torch::Tensor h = branches_.front()->trunk(x, taps);
  OneOutputs out;
  for (const auto& net : branches_) out.branches.push_back(net->branch(h).second);
  out.gate = torch::softmax(torch::relu(gate_bn_(gate_fc_(global_pool(h)))), 1);
  out.ensemble = out.gate.select(1, 0).unsqueeze(1) * out.branches.front();
  for (size_t i = 1; i < out.branches.size(); ++i) {
    out.ensemble = out.ensemble + out.gate.select(1, static_cast<int64_t>(i)).unsqueeze(1) * out.branches[i];
  }
  return out;
}

std::vector<torch::Tensor> OneNetImpl::outputs(const torch::Tensor& x) {
  OneOutputs out = run(x);
  out.branches.push_back(std::move(out.ensemble));
  return std::move(out.branches);
}

std::vector<std::string> OneNetImpl::output_names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < branches_.size(); ++i) names.push_back("branch" + std::to_string(i + 1));
  names.push_back("ensemble");
  return names;
}

void OneNetImpl::copy_branch(size_t index, NetImpl& target) const {
  if (index >= branches_.size()) {
    fail(ErrorCode::InvalidArgument, "branch ", index + 1, " does not exist: this ONE network has branches 1-", branches_.size());
  }
  // Each branch is the whole plain network, under the plain names: a strict state copy is the export.
  io::load_module_state(target, io::module_state(*branches_[index]), "", true);
}

}  // namespace distillery::models

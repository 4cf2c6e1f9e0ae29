#pragma once
// ONE (Lan, Zhu, Gong, NeurIPS 2018): a zoo network whose last stage and classifier are copied into
// m branches over one shared trunk, with a gate that weighs the branches into the ensemble teacher.
#include <torch/torch.h>

#include <cstddef>
#include <string>
#include <vector>

#include "models/net.h"

namespace distillery::models {

struct OneOutputs {
  std::vector<torch::Tensor> branches;  // logits of each branch, [N, classes]
  torch::Tensor gate;                   // [N, m], rows sum to 1
  torch::Tensor ensemble;               // sum_i gate[:, i] * branches[i]
};

class OneNetImpl : public NetImpl {
 public:
  /** `spec` names the plain network (branches = 0) each branch is; `branches` >= 2. */
  OneNetImpl(const ModelSpec& spec, int64_t branches);

  /** The trunk once, then every branch, the gate and the gated ensemble. */
  OneOutputs run(const torch::Tensor& x);

  /** Branch 1 as the plain network it is ("ONE", the deployable model). */
  std::vector<torch::Tensor> features(const torch::Tensor& x) override { return branches_.front()->features(x); }
  std::vector<std::string> feature_names() const override { return branches_.front()->feature_names(); }
  /** Each branch's logits, then the ensemble's. */
  std::vector<torch::Tensor> outputs(const torch::Tensor& x) override;
  /** branch1 ... branchM, ensemble. */
  std::vector<std::string> output_names() const override;

  /** Copies branch `index` (0-based) into `target`, the plain network each branch is: the deployable model. */
  void copy_branch(size_t index, NetImpl& target) const;

 private:
  std::vector<StagedNet> branches_;  // each a whole plain network; all run on branches_[0]'s trunk
  torch::nn::Linear gate_fc_{nullptr};
  torch::nn::BatchNorm1d gate_bn_{nullptr};
};

}  // namespace distillery::models

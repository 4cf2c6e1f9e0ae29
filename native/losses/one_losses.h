#pragma once
// ONE's online distillation loss (Lan et al. 2018): every branch and the gated ensemble learn the
// labels, and every branch learns the ensemble's softened output, which is a target, not a path
// for gradients.
#include <torch/torch.h>

#include <vector>

namespace distillery::losses {

struct OneLoss {
  torch::Tensor total;  // ce + kl_weight * kl
  torch::Tensor ce;     // sum_i CE(z_i, y) + CE(z_e, y)
  torch::Tensor kl;     // sum_i T^2 KL(softmax(z_e / T), detached || softmax(z_i / T)), batch mean
};

/** The ONE loss over branch logits z_i and ensemble logits z_e; kl_weight is the ramp-up w(epoch). */
OneLoss one_loss(const std::vector<torch::Tensor>& branch_logits, const torch::Tensor& ensemble_logits,
                 const torch::Tensor& labels, double temperature, double kl_weight);

}  // namespace distillery::losses

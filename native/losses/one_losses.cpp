#include "losses/one_losses.h"

#include "core/error.h"
#include "losses/kd_losses.h"

namespace distillery::losses {

namespace F = torch::nn::functional;

OneLoss one_loss(const std::vector<torch::Tensor>& branch_logits, const torch::Tensor& ensemble_logits,
                 const torch::Tensor& labels, double temperature, double kl_weight) {
  if (branch_logits.empty()) fail(ErrorCode::InvalidArgument, "the ONE loss needs at least one branch");
  if (ensemble_logits.dim() != 2)
    fail(ErrorCode::Shape, "ensemble logits must be [batch, classes], got ", ensemble_logits.sizes());
  for (const auto& z : branch_logits) {
    if (!z.sizes().equals(ensemble_logits.sizes())) {
      fail(ErrorCode::Shape, "branch logits must be [batch, classes] = ", ensemble_logits.sizes(), ", got ", z.sizes());
    }
  }
  if (labels.dim() != 1 || labels.size(0) != ensemble_logits.size(0)) {
    fail(ErrorCode::Shape, "labels must be [", ensemble_logits.size(0), "], got ", labels.sizes());
  }
  if (!(kl_weight >= 0)) fail(ErrorCode::InvalidArgument, "the ONE KL weight must be >= 0, got ", kl_weight);
  const torch::Tensor target = torch::softmax(ensemble_logits.detach().to(torch::kFloat) / temperature, 1);
  OneLoss out;
  out.ce = F::cross_entropy(ensemble_logits, labels);
  out.kl = torch::zeros({}, ensemble_logits.options().dtype(torch::kFloat));
  for (const auto& z : branch_logits) {
    out.ce = out.ce + F::cross_entropy(z, labels);
    out.kl = out.kl + kd_kl_loss(z, target, temperature);
  }
  out.total = out.ce + kl_weight * out.kl;
  return out;
}

}  // namespace distillery::losses

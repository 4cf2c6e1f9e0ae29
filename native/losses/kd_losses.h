#pragma once
// Knowledge-distillation losses shared by every method (Hinton KD, MEAL V2's soft cross-entropy).
#include <torch/torch.h>

#include <vector>

namespace distillery::losses {

/** Mean over teachers of softmax(z_k / T): the ensemble's soft target. */
torch::Tensor ensemble_probabilities(const std::vector<torch::Tensor>& teacher_logits, double temperature);

/**
 * Hinton KD: T^2 * KL(p_t || softmax(z_s / T)) with "batchmean" reduction (sum over classes, mean
 * over the batch), p_t the teachers' averaged softened probabilities. Averaging targets rather than
 * per-teacher losses gives the same student gradient and one well-defined loss value.
 */
torch::Tensor kd_kl_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_probs, double temperature);

/** Dense [B, classes] probabilities from top-k ones ([B, k] classes and values): the mass the top k
 *  leave is spread evenly over the other classes (FKD's marginal smoothing). E_SHAPE for a class out
 *  of range or mismatched shapes. */
torch::Tensor expand_soft_labels(const torch::Tensor& classes, const torch::Tensor& values, int64_t num_classes);

struct KdLoss {
  torch::Tensor total;  // ce_weight * ce + kd_weight * kd
  torch::Tensor ce;
  torch::Tensor kd;
};

/** w_ce * CE(z_s, y) + w_kd * kd_kl_loss, checked for shapes. */
KdLoss kd_loss(const torch::Tensor& student_logits, const std::vector<torch::Tensor>& teacher_logits, const torch::Tensor& labels,
               double temperature, double ce_weight, double kd_weight);

}  // namespace distillery::losses

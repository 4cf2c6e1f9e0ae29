#include "losses/kd_losses.h"

#include "core/error.h"

namespace distillery::losses {

namespace F = torch::nn::functional;

namespace {
void check_logits(const torch::Tensor& logits, const char* what, const torch::Tensor& reference) {
  if (logits.dim() != 2 || !logits.sizes().equals(reference.sizes())) {
    fail(ErrorCode::Shape, what, " logits must be [batch, classes] = ", reference.sizes(), ", got ", logits.sizes());
  }
}
}  // namespace

torch::Tensor ensemble_probabilities(const std::vector<torch::Tensor>& teacher_logits, double temperature) {
  if (teacher_logits.empty()) fail(ErrorCode::InvalidArgument, "knowledge distillation needs at least one teacher");
  torch::Tensor sum;
  for (const auto& z : teacher_logits) {
    torch::Tensor p = torch::softmax(z.to(torch::kFloat) / temperature, 1);
    sum = sum.defined() ? sum + p : p;
  }
  return sum / static_cast<double>(teacher_logits.size());
}

torch::Tensor kd_kl_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_probs, double temperature) {
  if (!(temperature > 0)) fail(ErrorCode::InvalidArgument, "temperature must be > 0, got ", temperature);
  const torch::Tensor log_q = torch::log_softmax(student_logits.to(torch::kFloat) / temperature, 1);
  return F::kl_div(log_q, teacher_probs, F::KLDivFuncOptions().reduction(torch::kBatchMean)) * (temperature * temperature);
}

KdLoss kd_loss(const torch::Tensor& student_logits, const std::vector<torch::Tensor>& teacher_logits, const torch::Tensor& labels,
               double temperature, double ce_weight, double kd_weight) {
  if (student_logits.dim() != 2) fail(ErrorCode::Shape, "student logits must be [batch, classes], got ", student_logits.sizes());
  for (const auto& z : teacher_logits) check_logits(z, "teacher", student_logits);
  if (labels.dim() != 1 || labels.size(0) != student_logits.size(0)) {
    fail(ErrorCode::Shape, "labels must be [", student_logits.size(0), "], got ", labels.sizes());
  }
  KdLoss out;
  out.ce = F::cross_entropy(student_logits, labels);
  out.kd = kd_kl_loss(student_logits, ensemble_probabilities(teacher_logits, temperature), temperature);
  out.total = ce_weight * out.ce + kd_weight * out.kd;
  return out;
}

torch::Tensor expand_soft_labels(const torch::Tensor& classes, const torch::Tensor& values, int64_t num_classes) {
  if (classes.dim() != 2 || !classes.sizes().equals(values.sizes())) {
    fail(ErrorCode::Shape, "soft labels need classes and values of one shape [B, k], got ", classes.sizes(), " and ",
         values.sizes());
  }
  const int64_t k = classes.size(1);
  if (k > num_classes ||
      (classes.numel() && (classes.min().item<int64_t>() < 0 || classes.max().item<int64_t>() >= num_classes))) {
    fail(ErrorCode::Shape, "soft labels name classes outside the student's ", num_classes, " (k = ", k, ")");
  }
  const torch::Tensor v = values.to(torch::kFloat);
  torch::Tensor dense = torch::zeros({classes.size(0), num_classes}, v.options());
  if (k < num_classes) {
    const torch::Tensor rest = (1 - v.sum(1, true)).clamp_min(0) / static_cast<double>(num_classes - k);
    dense += rest;
  }
  return dense.scatter_(1, classes.to(torch::kLong), v);
}

}  // namespace distillery::losses

#include "losses/meal_losses.h"

#include "core/error.h"
#include "losses/kd_losses.h"

namespace distillery::losses {

namespace F = torch::nn::functional;

Pooling parse_pooling(const std::string& name, const std::string& context) {
  if (name == "avg") return Pooling::Avg;
  if (name == "max") return Pooling::Max;
  fail(ErrorCode::InvalidArgument, context, " must be \"avg\" or \"max\", got '", name, "'");
}

torch::Tensor align_block(const torch::Tensor& block, int64_t length, Pooling pooling) {
  if (block.dim() == 2) return block;
  if (block.dim() != 4) fail(ErrorCode::Shape, "a block to align must be [N, C, H, W] or [N, K], got ", block.sizes());
  if (length < 1) fail(ErrorCode::InvalidArgument, "an aligned block length must be >= 1, got ", length);
  const torch::Tensor flat = block.flatten(2);
  if (pooling == Pooling::Avg) return torch::adaptive_avg_pool1d(flat, length).mean(1);
  return std::get<0>(torch::adaptive_max_pool1d(flat, length)).amax(1);
}

Similarity parse_similarity(const std::string& name, const std::string& context) {
  if (name == "ce") return Similarity::CrossEntropy;
  if (name == "kl") return Similarity::KL;
  if (name == "l1") return Similarity::L1;
  if (name == "l2") return Similarity::L2;
  if (name == "l1_soft") return Similarity::L1Soft;
  if (name == "l2_soft") return Similarity::L2Soft;
  if (name == "cosine") return Similarity::Cosine;
  fail(ErrorCode::InvalidArgument, context, " must be one of ce, kl, l1, l2, l1_soft, l2_soft, cosine; got '", name, "'");
}

namespace {
void check_pair(const torch::Tensor& student, const std::vector<torch::Tensor>& teachers) {
  if (teachers.empty()) fail(ErrorCode::InvalidArgument, "a similarity loss needs at least one teacher block");
  if (student.dim() != 2) fail(ErrorCode::Shape, "aligned student block must be [N, L], got ", student.sizes());
  for (size_t i = 0; i < teachers.size(); ++i) {
    if (!teachers[i].sizes().equals(student.sizes())) {
      fail(ErrorCode::Shape, "aligned teacher block ", i, " is ", teachers[i].sizes(), ", the student's is ", student.sizes());
    }
  }
}
}  // namespace

torch::Tensor teacher_consensus(const std::vector<torch::Tensor>& teachers) {
  if (teachers.empty()) fail(ErrorCode::InvalidArgument, "no teacher blocks to combine");
  if (teachers.size() == 1) return teachers.front();
  return torch::stack(teachers).mean(0);
}

torch::Tensor similarity_loss(const torch::Tensor& student, const std::vector<torch::Tensor>& teachers, Similarity kind,
                              double temperature) {
  check_pair(student, teachers);
  const torch::Tensor s = student.to(torch::kFloat);
  switch (kind) {
    case Similarity::CrossEntropy:
      return -(ensemble_probabilities(teachers, 1.0) * torch::log_softmax(s, 1)).sum(1).mean();
    case Similarity::KL: {
      if (!(temperature > 0)) fail(ErrorCode::InvalidArgument, "the kl similarity needs a temperature > 0, got ", temperature);
      const torch::Tensor log_q = torch::log_softmax(s / temperature, 1);
      return F::kl_div(log_q, ensemble_probabilities(teachers, temperature), F::KLDivFuncOptions().reduction(torch::kBatchMean)) *
             (temperature * temperature);
    }
    case Similarity::L1:
      return F::l1_loss(s, teacher_consensus(teachers).to(torch::kFloat));
    case Similarity::L2:
      return F::mse_loss(s, teacher_consensus(teachers).to(torch::kFloat));
    case Similarity::L1Soft:
      return F::l1_loss(torch::softmax(s, 1), ensemble_probabilities(teachers, 1.0));
    case Similarity::L2Soft:
      return F::mse_loss(torch::softmax(s, 1), ensemble_probabilities(teachers, 1.0));
    case Similarity::Cosine:
      return 1.0 - F::cosine_similarity(s, teacher_consensus(teachers).to(torch::kFloat), F::CosineSimilarityFuncOptions().dim(1))
                       .mean();
  }
  fail(ErrorCode::InvalidArgument, "unknown similarity loss");
}

namespace {
torch::Tensor side_targets(const torch::Tensor& scores, bool teacher) {
  if (scores.dim() != 2 || scores.size(1) != 2)
    fail(ErrorCode::Shape, "discriminator scores must be [N, 2], got ", scores.sizes());
  torch::Tensor target = torch::zeros_like(scores);
  target.select(1, teacher ? 1 : 0).fill_(1.0);
  return target;
}
}  // namespace

torch::Tensor discriminator_loss(const torch::Tensor& student_scores, const torch::Tensor& teacher_scores) {
  const torch::Tensor scores = torch::cat({student_scores, teacher_scores});
  const torch::Tensor targets = torch::cat({side_targets(student_scores, false), side_targets(teacher_scores, true)});
  return F::binary_cross_entropy_with_logits(scores, targets);
}

torch::Tensor generator_loss(const torch::Tensor& student_scores) {
  return F::binary_cross_entropy_with_logits(student_scores, side_targets(student_scores, true));
}

}  // namespace distillery::losses

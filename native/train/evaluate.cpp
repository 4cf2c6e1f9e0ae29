#include "train/evaluate.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "losses/kd_losses.h"
#include "train/checks.h"

namespace distillery::train {

namespace {
/** One model's float logits (eval mode) on normalised input `x`, on the CPU. */
torch::Tensor member_logits(ModelHandle& m, const torch::Tensor& x) {
  check_input(x, m);
  m.net->eval();
  return m.net->forward(x.to(m.device)).to(torch::kFloat).cpu();
}

/** Adds member probabilities `p` to the running ensemble sum, refusing a member with other classes. */
void add_member(torch::Tensor& sum, const torch::Tensor& p, const ModelHandle& m) {
  if (sum.defined() && !p.sizes().equals(sum.sizes())) {
    fail(ErrorCode::Shape, "ensemble members disagree on the number of classes: ", sum.size(1), " vs ", p.size(1), " ('",
         m.spec.arch, "')");
  }
  sum = sum.defined() ? sum + p : p;
}

/** Mean of the models' softmax (eval mode) on normalised input `x`, on the CPU; callers hold the models' locks. */
torch::Tensor averaged_softmax(const std::vector<ModelPtr>& models, const torch::Tensor& x) {
  torch::Tensor sum;
  for (const auto& m : models) add_member(sum, torch::softmax(member_logits(*m, x), 1), *m);
  return sum / static_cast<double>(models.size());
}

/** Top-1, top-5 and summed NLL of CPU log-probabilities [N, K] against labels [N]. */
EvalStats score(const torch::Tensor& log_probs, const torch::Tensor& y) {
  if (y.dim() != 1 || y.size(0) != log_probs.size(0)) {
    fail(ErrorCode::Shape, "labels must be [", log_probs.size(0), "], got ", y.sizes());
  }
  const int64_t classes = log_probs.size(1);
  if (y.numel() && y.max().item<int64_t>() >= classes) {
    fail(ErrorCode::Shape, "label ", y.max().item<int64_t>(), " is out of range for a model with ", classes, " classes");
  }
  EvalStats stats;
  stats.count = y.size(0);
  stats.loss_sum = torch::nll_loss(log_probs, y, {}, at::Reduction::Sum).item<double>();
  const int64_t k = std::min<int64_t>(5, classes);
  const torch::Tensor topk = std::get<1>(log_probs.topk(k, 1));
  const torch::Tensor hits = topk.eq(y.unsqueeze(1));
  stats.top1 = hits.select(1, 0).sum().item<int64_t>();
  stats.top5 = hits.any(1).sum().item<int64_t>();
  return stats;
}
}  // namespace

EvalStats evaluate_batch(const std::vector<ModelPtr>& models, const data::Batch& batch) {
  if (models.empty()) fail(ErrorCode::InvalidArgument, "evaluation needs at least one model");
  std::vector<ModelHandle*> handles;
  for (const auto& m : models) handles.push_back(m.get());
  ModelLocks lock(handles);
  torch::NoGradGuard no_grad;
  const torch::Device device = models.front()->device;
  const torch::Tensor x = data::normalize_images(batch, device);
  torch::Tensor log_probs;
  if (models.size() == 1) {
    models.front()->net->eval();
    log_probs = torch::log_softmax(models.front()->net->forward(x).to(torch::kFloat), 1).cpu();
  } else {
    log_probs = averaged_softmax(models, x).clamp_min(1e-12).log();
  }
  return score(log_probs, batch.labels);
}

std::vector<EvalStats> evaluate_members(const std::vector<ModelPtr>& models, const data::Batch& batch) {
  if (models.empty()) fail(ErrorCode::InvalidArgument, "evaluation needs at least one model");
  std::vector<ModelHandle*> handles;
  for (const auto& m : models) handles.push_back(m.get());
  ModelLocks lock(handles);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = data::normalize_images(batch, models.front()->device);
  std::vector<EvalStats> out;
  torch::Tensor sum;
  for (const auto& m : models) {
    const torch::Tensor log_probs = torch::log_softmax(member_logits(*m, x), 1);
    out.push_back(score(log_probs, batch.labels));
    add_member(sum, log_probs.exp(), *m);
  }
  out.push_back(score((sum / static_cast<double>(models.size())).clamp_min(1e-12).log(), batch.labels));
  return out;
}

std::vector<EvalStats> evaluate_outputs(const ModelPtr& model, const data::Batch& batch) {
  ModelLocks lock({model.get()});
  torch::NoGradGuard no_grad;
  model->net->eval();
  std::vector<EvalStats> out;
  for (const auto& logits : model->net->outputs(data::normalize_images(batch, model->device))) {
    out.push_back(score(torch::log_softmax(logits.to(torch::kFloat), 1).cpu(), batch.labels));
  }
  return out;
}

SoftTargets soft_targets(const std::vector<ModelPtr>& models, const data::Batch& batch, double temperature, int64_t top_k) {
  if (models.empty()) fail(ErrorCode::InvalidArgument, "soft targets need at least one teacher");
  if (!(temperature > 0)) fail(ErrorCode::InvalidArgument, "temperature must be > 0, got ", temperature);
  std::vector<ModelHandle*> handles;
  for (const auto& m : models) handles.push_back(m.get());
  ModelLocks lock(handles);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = data::normalize_images(batch, models.front()->device);
  std::vector<torch::Tensor> logits;
  for (const auto& m : models) {
    logits.push_back(member_logits(*m, x));
    if (logits.back().size(1) != logits.front().size(1)) {
      fail(ErrorCode::Shape, "ensemble members disagree on the number of classes: ", logits.front().size(1), " vs ",
           logits.back().size(1), " ('", m->spec.arch, "')");
    }
  }
  const torch::Tensor probs = losses::ensemble_probabilities(logits, temperature);
  if (top_k < 1 || top_k > probs.size(1))
    fail(ErrorCode::InvalidArgument, "top-k must be in [1, ", probs.size(1), "], got ", top_k);
  auto [values, classes] = probs.topk(top_k, 1);
  const torch::Tensor stacked = torch::stack(logits);
  auto [teacher_values, teacher_classes] = torch::softmax(stacked / temperature, 2).topk(top_k, 2);
  return {classes, values, stacked.mean(0), teacher_classes, teacher_values};
}

torch::Tensor predict_batch(const std::vector<ModelPtr>& models, const data::Batch& batch) {
  if (models.empty()) fail(ErrorCode::InvalidArgument, "prediction needs at least one model");
  std::vector<ModelHandle*> handles;
  for (const auto& m : models) handles.push_back(m.get());
  ModelLocks lock(handles);
  torch::NoGradGuard no_grad;
  return averaged_softmax(models, data::normalize_images(batch, models.front()->device));
}

}  // namespace distillery::train

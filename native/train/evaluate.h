#pragma once
// Evaluation of one model or an ensemble (averaged softmax) on a batch.
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "train/model_handle.h"

namespace distillery::train {

struct EvalStats {
  double loss_sum = 0;  // summed NLL of the (ensemble) probabilities
  int64_t top1 = 0;
  int64_t top5 = 0;
  int64_t count = 0;
};

/** Scores `models` (one model, or an ensemble whose softmax outputs are averaged) on `batch`. */
EvalStats evaluate_batch(const std::vector<ModelPtr>& models, const data::Batch& batch);

/** Scores each of `models`, then their averaged-softmax ensemble, from one forward pass per model. */
std::vector<EvalStats> evaluate_members(const std::vector<ModelPtr>& models, const data::Batch& batch);

/** Scores every output of `model` (NetImpl::outputs: one per ONE branch plus the ensemble) on `batch`. */
std::vector<EvalStats> evaluate_outputs(const ModelPtr& model, const data::Batch& batch);

/** What a soft-label cache stores of an ensemble on a batch, on the CPU. */
struct SoftTargets {
  torch::Tensor classes;          // int64 [B, top_k]: the largest of the averaged softmax at the temperature
  torch::Tensor values;           // float [B, top_k]: their probabilities
  torch::Tensor mean_logits;      // float [B, K]: the teachers' mean logits (MEAL V2's discriminator input)
  torch::Tensor teacher_classes;  // int64 [T, B, top_k]: each teacher's own top-k at the temperature
  torch::Tensor teacher_values;   // float [T, B, top_k]
};

/** The models' (eval mode) soft targets on `batch` at `temperature`, keeping `top_k` probabilities. */
SoftTargets soft_targets(const std::vector<ModelPtr>& models, const data::Batch& batch, double temperature, int64_t top_k);

/** The averaged softmax of `models` (eval mode) on `batch`: float [B, K] on the CPU. */
torch::Tensor predict_batch(const std::vector<ModelPtr>& models, const data::Batch& batch);

}  // namespace distillery::train

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

/** The `top_k` largest of the models' averaged softmax at `temperature` (eval mode) on `batch`: int64
 *  classes and float probabilities, [B, top_k] each, on the CPU. */
std::pair<torch::Tensor, torch::Tensor> soft_targets(const std::vector<ModelPtr>& models, const data::Batch& batch, double temperature,
                                                     int64_t top_k);

/** The averaged softmax of `models` (eval mode) on `batch`: float [B, K] on the CPU. */
torch::Tensor predict_batch(const std::vector<ModelPtr>& models, const data::Batch& batch);

}  // namespace distillery::train

#pragma once
// Checks every fused step makes before it touches weights: the batch fits the model, and the loss
// is finite (so a NaN never reaches the parameters or the optimizer state).
#include <torch/torch.h>

#include "data/dataset.h"
#include "train/model_handle.h"

namespace distillery::train {

/** The batch's largest label, computed once per step and checked against every model's classes. */
int64_t max_label(const data::Batch& batch);

/** E_SHAPE unless the batch's channels and labels fit `model`. */
void check_batch(const data::Batch& batch, int64_t largest_label, const ModelHandle& model);

/** E_SHAPE unless `images` is [N, C, H, W] with the model's input channels. */
void check_input(const torch::Tensor& images, const ModelHandle& model);

/** E_NAN_LOSS naming the loss and learning rate unless `value` is finite. */
void require_finite(double value, double lr);

}  // namespace distillery::train

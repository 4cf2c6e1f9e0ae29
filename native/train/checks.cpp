#include "train/checks.h"

#include <cmath>

#include "core/error.h"

namespace distillery::train {

int64_t max_label(const data::Batch& batch) { return batch.labels.numel() ? batch.labels.max().item<int64_t>() : 0; }

void check_input(const torch::Tensor& images, const ModelHandle& model) {
  if (images.dim() != 4) fail(ErrorCode::Shape, "images must be [N, C, H, W], got ", images.sizes());
  if (images.size(1) != model.spec.in_channels) {
    fail(ErrorCode::Shape, "model '", model.spec.arch, "' takes ", model.spec.in_channels, " input channel(s), the images have ",
         images.size(1), ": set the model's inChannels to match the dataset");
  }
}

void check_batch(const data::Batch& batch, int64_t largest_label, const ModelHandle& model) {
  check_input(batch.images, model);
  if (largest_label >= model.spec.num_classes) {
    fail(ErrorCode::Shape, "label ", largest_label, " is out of range for model '", model.spec.arch, "' with ",
         model.spec.num_classes, " classes: set numClasses to match the dataset");
  }
}

void require_finite(double value, double lr) {
  if (std::isfinite(value)) return;
  fail(ErrorCode::NonFinite, "the loss is ", value, " (lr ", lr,
       "): parameters and optimizer state were not updated (BatchNorm running statistics were); lower the learning rate, "
       "check the inputs and teachers, or resume from the last checkpoint");
}

}  // namespace distillery::train

#pragma once
// In-memory image classification datasets (the MNIST family, CIFAR binaries) and the batches the
// loader hands to training steps.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace distillery::data {

/** A whole split held in memory: images uint8 [N, C, H, W] contiguous, labels int64 [N]. */
struct ImageDataset {
  std::string name;
  torch::Tensor images;
  torch::Tensor labels;
  int64_t num_classes = 0;
  int64_t size() const { return labels.size(0); }
};

/** One batch as the loader emits it: raw uint8 pixels, normalised later on the step's device. */
struct Batch {
  torch::Tensor images;        // uint8 [B, C, H, W]
  torch::Tensor labels;        // int64 [B]
  torch::Tensor indices;       // int64 [B], positions in the dataset (for soft-label lookups)
  torch::Tensor crops;         // int32 [B, 5]: top, left, height, width, flip of each training crop (image files only)
  torch::Tensor soft_indices;  // int64 [B, k]: replayed soft labels' classes (a soft-label cache only)
  torch::Tensor soft_values;   // float [B, k]: their probabilities
  torch::Tensor soft_logits;   // float [B, classes]: replayed mean teacher logits (a cache that has them)
  std::vector<float> mean;
  std::vector<float> std;
  int64_t size() const { return labels.size(0); }
};

/** Throws E_SHAPE unless mean and std each hold 1 or `channels` values, E_ARGUMENT when a std is
 *  zero or not finite. The loader calls it up front so a bad setting fails before any epoch runs. */
void check_normalization(const std::vector<float>& mean, const std::vector<float>& std, int64_t channels);

/** uint8 images -> float, (x/255 - mean) / std per channel, on `device`. */
torch::Tensor normalize_images(const Batch& batch, const torch::Device& device);

}  // namespace distillery::data

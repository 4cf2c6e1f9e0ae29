#pragma once
// MEAL's discriminators: small MLPs that tell a student's aligned block from a teacher's, and the
// gradient-reversal layer that makes the single-step update truly adversarial.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery::models {

struct DiscriminatorOptions {
  /** Hidden widths are in_features / divisor each: {2, 4} is MEAL (d/2, d/4), {8, 64} MEAL V2. */
  std::vector<int64_t> divisors{2, 4};
  /** Hidden widths never drop below this (a 10-class MEAL V2 head would otherwise get width 0). */
  int64_t min_width = 2;
  /** The official MEAL code applies a ReLU to the two output scores too. */
  bool output_relu = false;
};

/** in -> hidden... -> 2 fully connected layers named fc1, fc2, ..., ReLU between them. */
class DiscriminatorImpl : public torch::nn::Module {
 public:
  DiscriminatorImpl(int64_t in_features, const DiscriminatorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t in_features() const { return in_features_; }

 private:
  int64_t in_features_;
  bool output_relu_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Discriminator);

/** Identity forward, gradient multiplied by -scale backward. */
torch::Tensor reverse_gradient(const torch::Tensor& x, double scale = 1.0);

}  // namespace distillery::models

#pragma once
// Pieces every family in the zoo shares: bias-free convolutions (a BatchNorm always follows and
// carries the shift), He initialisation, and the global pool that makes the nets size-agnostic.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "models/net.h"

namespace distillery::models {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1);
torch::nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride = 1);

/**
 * kaiming_normal_(fan_out, relu) on every Conv2d below `root`, BatchNorm weight 1 and bias 0, in
 * module order, as torchvision and RepDistiller do; Linear layers keep PyTorch's default. Walking
 * in the reference's order means a given seed draws the same weights as the Python models.
 */
void init_conv_bn(torch::nn::Module& root);

/** `source` as a network of `self`'s family: what share_trunk needs before it can take its modules. */
template <typename Family>
const Family& same_family(const Family& self, const StagedNetImpl& source) {
  const auto* other = dynamic_cast<const Family*>(&source);
  if (other == nullptr || other == &self) {
    fail(ErrorCode::InvalidArgument, "a trunk can only be shared with another network of the same family");
  }
  return *other;
}

/** Runs every stage but the last on `h`, appending each one's output to `taps`: a trunk's stage loop. */
template <typename Stage>
torch::Tensor run_all_but_last(std::vector<Stage>& stages, torch::Tensor h, std::vector<torch::Tensor>& taps) {
  for (size_t s = 0; s + 1 < stages.size(); ++s) {
    h = stages[s]->forward(h);
    taps.push_back(h);
  }
  return h;
}

/**
 * BatchNorm over NCHW input with torch::nn::BatchNorm2d's parameters, buffers, names and numbers
 * (so checkpoints and torchvision files are unchanged), whose training-mode statistics are taken
 * over every rank while a distributed::SyncBatchNormScope is alive on the stepping thread. Its own class
 * rather than a subclass: LibTorch does not export the symbols a subclass of BatchNorm2dImpl needs.
 */
class BatchNorm2dImpl : public torch::nn::Cloneable<BatchNorm2dImpl> {
 public:
  explicit BatchNorm2dImpl(int64_t features) : BatchNorm2dImpl(torch::nn::BatchNormOptions(features)) {}
  explicit BatchNorm2dImpl(const torch::nn::BatchNormOptions& options_);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::BatchNormOptions options;
  torch::Tensor weight;
  torch::Tensor bias;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;
};
TORCH_MODULE(BatchNorm2d);

/** N x C x H x W -> N x C: averaging over whatever H x W is left lets 28x28 and 32x32 inputs share one head. */
torch::Tensor global_pool(const torch::Tensor& x);

}  // namespace distillery::models

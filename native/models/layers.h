#pragma once
// Pieces every family in the zoo shares: bias-free convolutions (a BatchNorm always follows and
// carries the shift), He initialisation, and the global pool that makes the nets size-agnostic.
#include <torch/torch.h>

#include <cstdint>

namespace distillery::models {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1);
torch::nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride = 1);

/**
 * kaiming_normal_(fan_out, relu) on every Conv2d below `root`, BatchNorm weight 1 and bias 0, in
 * module order, as torchvision and RepDistiller do; Linear layers keep PyTorch's default. Walking
 * in the reference's order means a given seed draws the same weights as the Python models.
 */
void init_conv_bn(torch::nn::Module& root);

/** N x C x H x W -> N x C: averaging over whatever H x W is left lets 28x28 and 32x32 inputs share one head. */
torch::Tensor global_pool(const torch::Tensor& x);

}  // namespace distillery::models

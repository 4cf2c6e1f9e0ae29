#pragma once
// Multiply-accumulate counts of a network's convolutions and linear layers, the "FLOPs" that
// torchvision and the papers report, measured by watching the ATen ops of one forward pass.
#include <cstdint>
#include <vector>

#include "models/net.h"

namespace distillery::models {

/**
 * MACs of one forward pass (every output, so all of ONE's branches) for one input of shape
 * `chw` = {C, H, W}, in eval mode; the network's mode is restored. Counts aten::convolution and
 * aten::linear; normalisation, activations, pooling and additions are not counted.
 */
int64_t count_flops(NetImpl& net, const std::vector<int64_t>& chw);

}  // namespace distillery::models

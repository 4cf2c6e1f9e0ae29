#pragma once
// Wide ResNets WRN-d-k (Zagoruyko & Komodakis 2016) with pre-activation blocks. Module names follow
// xternalz/WideResNet-pytorch, which RepDistiller's wrn_* teachers also use, so their checkpoints'
// keys line up: conv1, block1.layer.0.{bn1,conv1,bn2,conv2,convShortcut}, ..., bn1, fc.
#include <cstdint>

#include "models/net.h"

namespace distillery::models {

struct WideResNetOptions {
  int64_t depth = 16;    // 6n + 4: n blocks per group
  int64_t widen = 2;     // k: group widths 16k, 32k, 64k
  double dropout = 0.0;  // between the two convolutions of each block, as in the paper
};

/** Features: block1, block2, block3 (after the final BN-ReLU), logits. */
Net make_wide_resnet(const WideResNetOptions& options, int64_t in_channels, int64_t num_classes);

}  // namespace distillery::models

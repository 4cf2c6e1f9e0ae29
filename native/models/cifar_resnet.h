#pragma once
// CIFAR ResNets: He et al. 2016 section 4.2 (resnet20 ... resnet110, parameter-free "option A"
// shortcuts) and the wider "x4" variants of the KD benchmarks (RepDistiller/CRD resnet8x4,
// resnet32x4, with 1x1-conv + BN shortcuts). Module names follow RepDistiller.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/net.h"

namespace distillery::models {

enum class CifarShortcut {
  ZeroPad,     // option A: subsample by the stride and zero-pad the new channels
  Projection,  // conv1x1 + BN ("downsample.0/1") wherever the shape changes
};

struct CifarResNetOptions {
  int64_t depth = 20;                             // 6n + 2: n BasicBlocks per stage
  std::array<int64_t, 4> widths{16, 16, 32, 64};  // stem, then stages 1-3 (strides 1, 2, 2)
  CifarShortcut shortcut = CifarShortcut::ZeroPad;
  // A student found by search: the inner width (conv1's output channels) of every block, per
  // stage, replacing `depth`; empty: (depth - 2) / 6 blocks per stage, inner width = stage width.
  std::vector<std::vector<int64_t>> blocks;
  // Student search: every block gets "channel_gate" (one per inner channel) and, where its shortcut
  // is the identity, "block_gate" (one scalar on its residual branch), all 1; every other
  // parameter is frozen (requires_grad false), so only the gates learn.
  bool gated = false;
};

/** True for the names of search gates ("layer2.0.channel_gate", "layer3.4.block_gate"). */
bool is_gate(const std::string& name);

/** Features: layer1, layer2, layer3, logits. */
Net make_cifar_resnet(const CifarResNetOptions& options, int64_t in_channels, int64_t num_classes);

}  // namespace distillery::models

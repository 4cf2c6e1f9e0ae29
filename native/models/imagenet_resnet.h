#pragma once
// ImageNet ResNets as torchvision 0.14 builds them ("ResNet v1.5": the stride sits on the 3x3
// conv), with identical module, parameter and buffer names so torchvision checkpoints load as is.
#include <array>
#include <cstdint>

#include "models/net.h"

namespace distillery::models {

enum class ResNetBlock { Basic, Bottleneck };

struct ImageNetResNetOptions {
  ResNetBlock block = ResNetBlock::Basic;
  std::array<int64_t, 4> layers{2, 2, 2, 2};  // blocks per stage: resnet18
  int64_t width_per_group = 64;               // 128 for wide_resnet50_2 (Bottleneck only)
};

/** Features: layer1, layer2, layer3, layer4, logits. in_channels changes conv1 only. */
Net make_imagenet_resnet(const ImageNetResNetOptions& options, int64_t in_channels, int64_t num_classes);

}  // namespace distillery::models

#include "models/imagenet_resnet.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "models/layers.h"

namespace distillery::models {
namespace {

namespace nn = torch::nn;

// Blocks register their children in torchvision's order (ReLU included), so named_modules and
// the seeded init walk match the Python model, not just the state_dict.
class BasicBlockImpl : public nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;

  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t /*base_width*/, nn::Sequential downsample)
      : conv1_(register_module("conv1", conv3x3(inplanes, planes, stride))),
        bn1_(register_module("bn1", BatchNorm2d(planes))),
        relu_(register_module("relu", nn::ReLU(nn::ReLUOptions(true)))),
        conv2_(register_module("conv2", conv3x3(planes, planes))),
        bn2_(register_module("bn2", BatchNorm2d(planes))) {
    if (downsample) downsample_ = register_module("downsample", std::move(downsample));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto out = relu_(bn1_(conv1_(x)));
    out = bn2_(conv2_(out));
    out += downsample_ ? downsample_->forward(x) : x;
    return relu_(out);
  }

 private:
  nn::Conv2d conv1_;
  BatchNorm2d bn1_;
  nn::ReLU relu_;
  nn::Conv2d conv2_;
  BatchNorm2d bn2_;
  nn::Sequential downsample_{nullptr};
};

class BottleneckImpl : public nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;

  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, int64_t base_width, nn::Sequential downsample) {
    const int64_t width = planes * base_width / 64;
    conv1_ = register_module("conv1", conv1x1(inplanes, width));
    bn1_ = register_module("bn1", BatchNorm2d(width));
    conv2_ = register_module("conv2", conv3x3(width, width, stride));
    bn2_ = register_module("bn2", BatchNorm2d(width));
    conv3_ = register_module("conv3", conv1x1(width, planes * kExpansion));
    bn3_ = register_module("bn3", BatchNorm2d(planes * kExpansion));
    relu_ = register_module("relu", nn::ReLU(nn::ReLUOptions(true)));
    if (downsample) downsample_ = register_module("downsample", std::move(downsample));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto out = relu_(bn1_(conv1_(x)));
    out = relu_(bn2_(conv2_(out)));
    out = bn3_(conv3_(out));
    out += downsample_ ? downsample_->forward(x) : x;
    return relu_(out);
  }

 private:
  nn::Conv2d conv1_{nullptr};
  BatchNorm2d bn1_{nullptr};
  nn::Conv2d conv2_{nullptr};
  BatchNorm2d bn2_{nullptr};
  nn::Conv2d conv3_{nullptr};
  BatchNorm2d bn3_{nullptr};
  nn::ReLU relu_{nullptr};
  nn::Sequential downsample_{nullptr};
};

template <typename Block>
class ImageNetResNetImpl : public StagedNetImpl {
 public:
  ImageNetResNetImpl(const ImageNetResNetOptions& options, int64_t in_channels, int64_t num_classes)
      : base_width_(options.width_per_group) {
    conv1_ = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in_channels, inplanes_, 7).stride(2).padding(3).bias(false)));
    bn1_ = register_module("bn1", BatchNorm2d(inplanes_));
    relu_ = register_module("relu", nn::ReLU(nn::ReLUOptions(true)));
    maxpool_ = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
    for (size_t s = 0; s < 4; ++s) {
      if (s == 3) trunk_channels_ = inplanes_;
      stages_.push_back(register_module(stage_name(s), make_layer(64 << s, options.layers[s], s == 0 ? 1 : 2)));
    }
    avgpool_ = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
    fc_ = register_module("fc", nn::Linear(inplanes_, num_classes));
    init_conv_bn(*this);
  }

  torch::Tensor trunk(const torch::Tensor& x, std::vector<torch::Tensor>& taps) override {
    return run_all_but_last(stages_, maxpool_(relu_(bn1_(conv1_(x)))), taps);
  }

  std::pair<torch::Tensor, torch::Tensor> branch(const torch::Tensor& h) override {
    auto last = stages_.back()->forward(h);
    auto logits = fc_(avgpool_(last).flatten(1));
    return {std::move(last), std::move(logits)};
  }

  int64_t trunk_channels() const override { return trunk_channels_; }
  std::vector<std::string> branch_children() const override { return {stage_name(stages_.size() - 1), "avgpool", "fc"}; }

  void share_trunk(const StagedNetImpl& source) override {
    const auto& other = same_family(*this, source);
    conv1_ = replace_module("conv1", other.conv1_);
    bn1_ = replace_module("bn1", other.bn1_);
    relu_ = replace_module("relu", other.relu_);
    maxpool_ = replace_module("maxpool", other.maxpool_);
    for (size_t s = 0; s + 1 < stages_.size(); ++s) stages_[s] = replace_module(stage_name(s), other.stages_[s]);
  }

  std::vector<std::string> feature_names() const override { return {"layer1", "layer2", "layer3", "layer4", "logits"}; }

 private:
  // torchvision's _make_layer: only the first block of a stage strides or changes width.
  nn::Sequential make_layer(int64_t planes, int64_t blocks, int64_t stride) {
    const int64_t out = planes * Block::kExpansion;
    nn::Sequential downsample{nullptr};
    if (stride != 1 || inplanes_ != out) {
      downsample = nn::Sequential(conv1x1(inplanes_, out, stride), BatchNorm2d(out));
    }
    nn::Sequential layer;
    layer->push_back(std::make_shared<Block>(inplanes_, planes, stride, base_width_, std::move(downsample)));
    inplanes_ = out;
    for (int64_t b = 1; b < blocks; ++b) {
      layer->push_back(std::make_shared<Block>(inplanes_, planes, 1, base_width_, nn::Sequential(nullptr)));
    }
    return layer;
  }

  static std::string stage_name(size_t s) { return "layer" + std::to_string(s + 1); }

  int64_t inplanes_ = 64;
  int64_t base_width_;
  int64_t trunk_channels_ = 0;
  nn::Conv2d conv1_{nullptr};
  BatchNorm2d bn1_{nullptr};
  nn::ReLU relu_{nullptr};
  nn::MaxPool2d maxpool_{nullptr};
  std::vector<nn::Sequential> stages_;
  nn::AdaptiveAvgPool2d avgpool_{nullptr};
  nn::Linear fc_{nullptr};
};

}  // namespace

Net make_imagenet_resnet(const ImageNetResNetOptions& options, int64_t in_channels, int64_t num_classes) {
  for (const int64_t blocks : options.layers) {
    if (blocks < 1) fail(ErrorCode::InvalidArgument, "ResNet stages need at least one block each, got ", blocks);
  }
  if (options.block == ResNetBlock::Basic) {
    // torchvision refuses other widths for BasicBlock; so do we, rather than silently ignore it.
    if (options.width_per_group != 64) {
      fail(ErrorCode::InvalidArgument, "BasicBlock ResNets only support width_per_group 64, got ", options.width_per_group);
    }
    return std::make_shared<ImageNetResNetImpl<BasicBlockImpl>>(options, in_channels, num_classes);
  }
  if (options.width_per_group < 1) {
    fail(ErrorCode::InvalidArgument, "width_per_group must be >= 1, got ", options.width_per_group);
  }
  return std::make_shared<ImageNetResNetImpl<BottleneckImpl>>(options, in_channels, num_classes);
}

}  // namespace distillery::models

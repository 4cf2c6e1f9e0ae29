#include "models/cifar_resnet.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "models/layers.h"

namespace distillery::models {
namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t inner, int64_t out, int64_t stride, CifarShortcut shortcut, bool gated)
      : conv1_(register_module("conv1", conv3x3(in, inner, stride))),
        bn1_(register_module("bn1", BatchNorm2d(inner))),
        conv2_(register_module("conv2", conv3x3(inner, out))),
        bn2_(register_module("bn2", BatchNorm2d(out))),
        stride_(stride),
        extra_channels_(out - in) {
    const bool reshapes = stride != 1 || in != out;
    if (reshapes && shortcut == CifarShortcut::Projection) {
      downsample_ = register_module("downsample", nn::Sequential(conv1x1(in, out, stride), BatchNorm2d(out)));
    }
    zero_pad_ = reshapes && shortcut == CifarShortcut::ZeroPad;
    if (gated) {
      channel_gate_ = register_parameter("channel_gate", torch::ones({inner}));
      // Only a block whose shortcut is the identity can be dropped: with its residual branch at
      // zero it computes relu(x) = x, since every block input is already a ReLU output.
      if (!reshapes) block_gate_ = register_parameter("block_gate", torch::ones({1}));
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    // In place where torchvision's blocks are (ReLU(inplace=True), out += identity): same values,
    // fewer allocations. Only fresh tensors are overwritten, never x or a tapped stage output.
    auto out = bn1_(conv1_(x));
    if (channel_gate_.defined()) out = out * channel_gate_.view({1, -1, 1, 1});
    out = bn2_(conv2_(out.relu_()));
    if (block_gate_.defined()) out = out * block_gate_;
    out += shortcut(x);
    return out.relu_();
  }

 private:
  torch::Tensor shortcut(const torch::Tensor& x) {
    if (downsample_) return downsample_->forward(x);
    if (!zero_pad_) return x;
    // Centred padding, as in the common reference (akamaster/pytorch_resnet_cifar10).
    const auto sub = x.slice(2, 0, c10::nullopt, stride_).slice(3, 0, c10::nullopt, stride_);
    const int64_t front = extra_channels_ / 2;
    return F::pad(sub, F::PadFuncOptions({0, 0, 0, 0, front, extra_channels_ - front}));
  }

  nn::Conv2d conv1_;
  BatchNorm2d bn1_;
  nn::Conv2d conv2_;
  BatchNorm2d bn2_;
  nn::Sequential downsample_{nullptr};
  torch::Tensor channel_gate_;
  torch::Tensor block_gate_;
  int64_t stride_;
  int64_t extra_channels_;
  bool zero_pad_ = false;
};

class CifarResNetImpl : public StagedNetImpl {
 public:
  CifarResNetImpl(const CifarResNetOptions& options, int64_t in_channels, int64_t num_classes) {
    int64_t planes = options.widths[0];
    conv1_ = register_module("conv1", conv3x3(in_channels, planes));
    bn1_ = register_module("bn1", BatchNorm2d(planes));
    for (size_t s = 0; s < 3; ++s) {
      nn::Sequential stage;
      const int64_t width = options.widths[s + 1];
      if (s == 2) trunk_channels_ = planes;
      const std::vector<int64_t> inner =
          options.blocks.empty() ? std::vector<int64_t>((options.depth - 2) / 6, width) : options.blocks[s];
      for (size_t b = 0; b < inner.size(); ++b) {
        const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        stage->push_back(std::make_shared<BasicBlockImpl>(planes, inner[b], width, stride, options.shortcut, options.gated));
        planes = width;
      }
      stages_.push_back(register_module(stage_name(s), std::move(stage)));
    }
    fc_ = register_module("fc", nn::Linear(planes, num_classes));
    init_conv_bn(*this);
    if (options.gated) {
      for (auto& p : named_parameters()) {
        if (!is_gate(p.key())) p.value().set_requires_grad(false);
      }
    }
  }

  torch::Tensor trunk(const torch::Tensor& x, std::vector<torch::Tensor>& taps) override {
    return run_all_but_last(stages_, torch::relu(bn1_(conv1_(x))), taps);
  }

  std::pair<torch::Tensor, torch::Tensor> branch(const torch::Tensor& h) override {
    auto last = stages_.back()->forward(h);
    auto logits = fc_(global_pool(last));
    return {std::move(last), std::move(logits)};
  }

  int64_t trunk_channels() const override { return trunk_channels_; }
  std::vector<std::string> branch_children() const override { return {stage_name(stages_.size() - 1), "fc"}; }

  void share_trunk(const StagedNetImpl& source) override {
    const auto& other = same_family(*this, source);
    conv1_ = replace_module("conv1", other.conv1_);
    bn1_ = replace_module("bn1", other.bn1_);
    for (size_t s = 0; s + 1 < stages_.size(); ++s) stages_[s] = replace_module(stage_name(s), other.stages_[s]);
  }

  std::vector<std::string> feature_names() const override { return {"layer1", "layer2", "layer3", "logits"}; }

 private:
  static std::string stage_name(size_t s) { return "layer" + std::to_string(s + 1); }

  nn::Conv2d conv1_{nullptr};
  BatchNorm2d bn1_{nullptr};
  std::vector<nn::Sequential> stages_;
  nn::Linear fc_{nullptr};
  int64_t trunk_channels_ = 0;
};

}  // namespace

bool is_gate(const std::string& name) {
  const auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("channel_gate") || ends_with("block_gate");
}

Net make_cifar_resnet(const CifarResNetOptions& options, int64_t in_channels, int64_t num_classes) {
  if (!options.blocks.empty()) {
    if (options.blocks.size() != 3) {
      fail(ErrorCode::InvalidArgument, "a CIFAR ResNet has 3 stages: blocks must list 3 stages of inner widths, got ",
           options.blocks.size());
    }
    for (size_t s = 0; s < 3; ++s) {
      if (options.blocks[s].empty()) fail(ErrorCode::InvalidArgument, "blocks: stage ", s + 1, " needs at least one block");
      for (const int64_t w : options.blocks[s]) {
        if (w < 1)
          fail(ErrorCode::InvalidArgument, "blocks: stage ", s + 1, " has a block of inner width ", w, "; widths must be >= 1");
      }
    }
    return std::make_shared<CifarResNetImpl>(options, in_channels, num_classes);
  }
  if (options.depth < 8 || (options.depth - 2) % 6 != 0) {
    fail(ErrorCode::InvalidArgument, "CIFAR ResNet depth must be 6n+2 with n >= 1 (8, 14, 20, ...), got ", options.depth);
  }
  return std::make_shared<CifarResNetImpl>(options, in_channels, num_classes);
}

}  // namespace distillery::models

#include "models/wide_resnet.h"

#include <string>
#include <utility>

#include "core/error.h"
#include "models/layers.h"

namespace distillery::models {
namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

class WideBlockImpl : public nn::Module {
 public:
  WideBlockImpl(int64_t in, int64_t out, int64_t stride, double dropout)
      : bn1_(register_module("bn1", BatchNorm2d(in))),
        conv1_(register_module("conv1", conv3x3(in, out, stride))),
        bn2_(register_module("bn2", BatchNorm2d(out))),
        conv2_(register_module("conv2", conv3x3(out, out))),
        dropout_(dropout) {
    if (in != out) shortcut_ = register_module("convShortcut", conv1x1(in, out, stride));
  }

  torch::Tensor forward(torch::Tensor x) {
    const auto act = torch::relu(bn1_(x));
    auto out = torch::relu(bn2_(conv1_(act)));
    if (dropout_ > 0) out = F::dropout(out, F::DropoutFuncOptions().p(dropout_).training(is_training()));
    out = conv2_(out);
    // Like the reference, a projection sees the activated input; an identity carries the raw one.
    return out + (shortcut_ ? shortcut_(act) : x);
  }

 private:
  BatchNorm2d bn1_;
  nn::Conv2d conv1_;
  BatchNorm2d bn2_;
  nn::Conv2d conv2_;
  nn::Conv2d shortcut_{nullptr};
  double dropout_;
};

// The reference wraps each group's Sequential in a module of its own; keeping it keeps "block1.layer.0".
class GroupImpl : public nn::Module {
 public:
  explicit GroupImpl(nn::Sequential layer) : layer_(register_module("layer", std::move(layer))) {}
  torch::Tensor forward(const torch::Tensor& x) { return layer_->forward(x); }

 private:
  nn::Sequential layer_;
};

class WideResNetImpl : public StagedNetImpl {
 public:
  WideResNetImpl(const WideResNetOptions& options, int64_t in_channels, int64_t num_classes) {
    const int64_t blocks = (options.depth - 4) / 6;
    int64_t planes = 16;
    conv1_ = register_module("conv1", conv3x3(in_channels, planes));
    for (size_t g = 0; g < 3; ++g) {
      nn::Sequential layer;
      const int64_t width = (16 << g) * options.widen;
      if (g == 2) trunk_channels_ = planes;
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t stride = (g > 0 && b == 0) ? 2 : 1;
        layer->push_back(std::make_shared<WideBlockImpl>(planes, width, stride, options.dropout));
        planes = width;
      }
      groups_.push_back(register_module(group_name(g), std::make_shared<GroupImpl>(std::move(layer))));
    }
    bn1_ = register_module("bn1", BatchNorm2d(planes));
    fc_ = register_module("fc", nn::Linear(planes, num_classes));
    init_conv_bn(*this);
    // The reference zeroes the classifier's bias (its weight keeps PyTorch's default).
    torch::NoGradGuard no_grad;
    fc_->bias.zero_();
  }

  torch::Tensor trunk(const torch::Tensor& x, std::vector<torch::Tensor>& taps) override {
    return run_all_but_last(groups_, conv1_(x), taps);
  }

  std::pair<torch::Tensor, torch::Tensor> branch(const torch::Tensor& h) override {
    // Distillers tap the last group after its BN-ReLU, the tensor the classifier actually sees.
    auto last = torch::relu(bn1_(groups_.back()->forward(h)));
    auto logits = fc_(global_pool(last));
    return {std::move(last), std::move(logits)};
  }

  int64_t trunk_channels() const override { return trunk_channels_; }
  std::vector<std::string> branch_children() const override { return {group_name(groups_.size() - 1), "bn1", "fc"}; }

  void share_trunk(const StagedNetImpl& source) override {
    const auto& other = same_family(*this, source);
    conv1_ = replace_module("conv1", other.conv1_);
    for (size_t g = 0; g + 1 < groups_.size(); ++g) groups_[g] = replace_module(group_name(g), other.groups_[g]);
  }

  std::vector<std::string> feature_names() const override { return {"block1", "block2", "block3", "logits"}; }

 private:
  static std::string group_name(size_t g) { return "block" + std::to_string(g + 1); }

  nn::Conv2d conv1_{nullptr};
  std::vector<std::shared_ptr<GroupImpl>> groups_;
  BatchNorm2d bn1_{nullptr};
  nn::Linear fc_{nullptr};
  int64_t trunk_channels_ = 0;
};

}  // namespace

Net make_wide_resnet(const WideResNetOptions& options, int64_t in_channels, int64_t num_classes) {
  if (options.depth < 10 || (options.depth - 4) % 6 != 0) {
    fail(ErrorCode::InvalidArgument, "WRN depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 40, ...), got ", options.depth);
  }
  if (options.widen < 1) fail(ErrorCode::InvalidArgument, "WRN widen factor must be >= 1, got ", options.widen);
  if (options.dropout < 0 || options.dropout >= 1) {
    fail(ErrorCode::InvalidArgument, "WRN dropout must be in [0, 1), got ", options.dropout);
  }
  return std::make_shared<WideResNetImpl>(options, in_channels, num_classes);
}

}  // namespace distillery::models

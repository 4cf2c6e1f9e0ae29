#pragma once
// The common shape of every network in the zoo: a torch Module whose `features` returns the output
// of each stage followed by the logits (the block taps MEAL aligns), and whose parameter names follow
// the reference implementation (torchvision for ImageNet ResNets).
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace distillery::models {

class NetImpl : public torch::nn::Module {
 public:
  /** Outputs of each stage, in order, then the logits (N x classes) as the last element. */
  virtual std::vector<torch::Tensor> features(const torch::Tensor& x) = 0;
  /** Names of the entries `features` returns, e.g. {"layer1", "layer2", "layer3", "logits"}. */
  virtual std::vector<std::string> feature_names() const = 0;
  /** Logits only. */
  virtual torch::Tensor forward(const torch::Tensor& x) { return features(x).back(); }
};

using Net = std::shared_ptr<NetImpl>;

struct ModelSpec {
  std::string arch;        // a name from list_archs(), e.g. "resnet20", "wrn-16-2", "resnet18"
  int64_t in_channels = 3;
  int64_t num_classes = 10;
};

/** Builds a freshly initialised network (init as the reference does; the seed is the caller's). */
Net build_model(const ModelSpec& spec);

/** Every architecture name build_model accepts (WRN also accepts any "wrn-D-K" with (D-4)%6==0). */
std::vector<std::string> list_archs();

/** Number of parameters (trainable tensors, not buffers). */
int64_t count_parameters(const NetImpl& net);

}  // namespace distillery::models

#pragma once
// The common shape of every network in the zoo: a torch Module whose `features` returns the output
// of each stage followed by the logits (the block taps MEAL aligns), and whose parameter names follow
// the reference implementation (torchvision for ImageNet ResNets).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
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
  /** Every prediction the network makes, each scored by evaluation: the logits, or one per ONE branch plus the ensemble. */
  virtual std::vector<torch::Tensor> outputs(const torch::Tensor& x) { return {forward(x)}; }
  /** Names of the entries `outputs` returns. */
  virtual std::vector<std::string> output_names() const { return {"logits"}; }
};

using Net = std::shared_ptr<NetImpl>;

/**
 * A network that splits into a trunk (stem and every stage but the last) and a branch (the last
 * stage and the classifier): what ONE shares and what it copies per branch. Every family of the
 * zoo is one.
 */
class StagedNetImpl : public NetImpl {
 public:
  /** The input of the last stage; appends the output of each earlier stage to `taps`. */
  virtual torch::Tensor trunk(const torch::Tensor& x, std::vector<torch::Tensor>& taps) = 0;
  /** The last stage and the classifier on trunk()'s output: {the last stage's tapped output, logits}. */
  virtual std::pair<torch::Tensor, torch::Tensor> branch(const torch::Tensor& h) = 0;
  /** Channels of trunk()'s output. */
  virtual int64_t trunk_channels() const = 0;
  /** Names of the direct children branch() uses; every other child belongs to the trunk. */
  virtual std::vector<std::string> branch_children() const = 0;
  /** Makes this network's trunk run on `source`'s trunk modules (same family and shape), sharing their parameters. */
  virtual void share_trunk(const StagedNetImpl& source) = 0;

  std::vector<torch::Tensor> features(const torch::Tensor& x) override {
    std::vector<torch::Tensor> out;
    auto [last, logits] = branch(trunk(x, out));
    out.push_back(std::move(last));
    out.push_back(std::move(logits));
    return out;
  }
};

using StagedNet = std::shared_ptr<StagedNetImpl>;

struct ModelSpec {
  std::string arch;  // a name from list_archs(), e.g. "resnet20", "wrn-16-2", "resnet18"
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int64_t branches = 0;  // >= 2: ONE's multi-branch version of `arch`; 0: the plain network
  // CIFAR ResNets only: a searched student's inner width of every block, per stage (replaces the
  // depth `arch` implies); empty: `arch` as it is.
  std::vector<std::vector<int64_t>> blocks;
  bool gated = false;  // CIFAR ResNets only: the search network with channel and block gates
};

/** The spec a JSON object describes ({arch, inChannels, numClasses, branches?, blocks?, gated?}: the one
 *  spelling of a spec outside C++, in the addon and in checkpoint metadata); errors name `context`. */
ModelSpec spec_from_json(const nlohmann::json& value, const std::string& context);

/** `spec` as spec_from_json reads it. */
nlohmann::json spec_to_json(const ModelSpec& spec);

/** Builds a freshly initialised network (init as the reference does; the seed is the caller's). */
Net build_model(const ModelSpec& spec);

/** build_model for a plain (branches = 0) spec, as the staged network every zoo family is. */
StagedNet build_staged_model(const ModelSpec& spec);

/** Every architecture name build_model accepts (WRN also accepts any "wrn-D-K" with (D-4)%6==0). */
std::vector<std::string> list_archs();

/** Number of parameters (trainable tensors, not buffers). */
int64_t count_parameters(const NetImpl& net);

}  // namespace distillery::models

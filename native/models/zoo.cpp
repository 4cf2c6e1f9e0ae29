// The name -> architecture table behind build_model and list_archs.
#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/limits.h"
#include "models/cifar_resnet.h"
#include "models/imagenet_resnet.h"
#include "models/net.h"
#include "models/one_net.h"
#include "models/wide_resnet.h"

namespace distillery::models {
namespace {

using Factory = std::function<Net(int64_t in_channels, int64_t num_classes)>;

struct Arch {
  std::string name;
  Factory make;
  std::optional<CifarResNetOptions> cifar;  // CIFAR ResNets: what custom blocks and search gates modify
};

Arch cifar(const std::string& name, int64_t depth, std::array<int64_t, 4> widths, CifarShortcut shortcut) {
  CifarResNetOptions options;
  options.depth = depth;
  options.widths = widths;
  options.shortcut = shortcut;
  return {name, [=](int64_t in, int64_t classes) { return make_cifar_resnet(options, in, classes); }, options};
}

Factory imagenet(ResNetBlock block, std::array<int64_t, 4> layers, int64_t width_per_group = 64) {
  return [=](int64_t in, int64_t classes) { return make_imagenet_resnet({block, layers, width_per_group}, in, classes); };
}

// WRN names are parsed, not looked up; these are the ones worth advertising.
const std::vector<std::string> kListedWrn = {"wrn-16-2", "wrn-40-2", "wrn-28-10"};
constexpr std::string_view kWrnPrefix = "wrn-";

const std::vector<Arch>& table() {
  static const std::vector<Arch> archs = [] {
    std::vector<Arch> a;
    for (const int64_t depth : {8, 14, 20, 32, 44, 56, 110}) {
      a.push_back(cifar("resnet" + std::to_string(depth), depth, {16, 16, 32, 64}, CifarShortcut::ZeroPad));
    }
    for (const int64_t depth : {8, 32}) {
      a.push_back(cifar("resnet" + std::to_string(depth) + "x4", depth, {32, 64, 128, 256}, CifarShortcut::Projection));
    }
    a.push_back({"resnet18", imagenet(ResNetBlock::Basic, {2, 2, 2, 2}), std::nullopt});
    a.push_back({"resnet34", imagenet(ResNetBlock::Basic, {3, 4, 6, 3}), std::nullopt});
    a.push_back({"resnet50", imagenet(ResNetBlock::Bottleneck, {3, 4, 6, 3}), std::nullopt});
    a.push_back({"resnet101", imagenet(ResNetBlock::Bottleneck, {3, 4, 23, 3}), std::nullopt});
    a.push_back({"resnet152", imagenet(ResNetBlock::Bottleneck, {3, 8, 36, 3}), std::nullopt});
    a.push_back({"wide_resnet50_2", imagenet(ResNetBlock::Bottleneck, {3, 4, 6, 3}, 128), std::nullopt});
    return a;
  }();
  return archs;
}

std::optional<int64_t> parse_positive(const std::string& text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

WideResNetOptions parse_wrn(const std::string& arch) {
  const std::string rest = arch.substr(kWrnPrefix.size());
  const auto dash = rest.find('-');
  const auto depth = dash == std::string::npos ? std::nullopt : parse_positive(rest.substr(0, dash));
  const auto widen = dash == std::string::npos ? std::nullopt : parse_positive(rest.substr(dash + 1));
  if (!depth || !widen) {
    fail(ErrorCode::InvalidArgument, "bad Wide ResNet arch '", arch,
         "': expected wrn-D-K with positive integers D (depth) and K (widen factor), e.g. wrn-40-2");
  }
  if (*depth < 10 || (*depth - 4) % 6 != 0) {
    fail(ErrorCode::InvalidArgument, "bad Wide ResNet arch '", arch, "': depth D must satisfy (D-4)%6==0 and ",
         "D >= 10 (10, 16, 22, 28, 40, ...), got ", *depth);
  }
  return {*depth, *widen};
}

const Arch* find_arch(const std::string& name) {
  for (const auto& arch : table()) {
    if (arch.name == name) return &arch;
  }
  return nullptr;
}

// An upper estimate of the parameters `spec` makes, from its sizes alone, so that a spec of absurd
// size is refused before any of it is allocated. The zoo's fixed architectures count only for what
// the spec scales: the input convolution and the classifier. In doubles: the sizes may be anything.
double estimate_parameters(const ModelSpec& spec) {
  double body = 0, features = 2048;  // the widest zoo network's feature width
  if (spec.arch.rfind(kWrnPrefix, 0) == 0 && spec.blocks.empty()) {
    const WideResNetOptions wrn = parse_wrn(spec.arch);
    const double n = static_cast<double>(wrn.depth - 4) / 6, k = static_cast<double>(wrn.widen);
    body = 2 * 9 * n * (16 * 16 + 32 * 32 + 64 * 64) * k * k;  // two 3x3 convolutions per block, widths 16k, 32k, 64k
    features = 64 * k;
  } else if (const Arch* arch = find_arch(spec.arch); arch != nullptr && arch->cifar && !spec.blocks.empty()) {
    for (size_t s = 0; s < spec.blocks.size(); ++s) {
      const double width = static_cast<double>(arch->cifar->widths[std::min<size_t>(s + 1, 3)]);
      for (const int64_t inner : spec.blocks[s]) body += 2 * 9 * width * static_cast<double>(inner);
    }
  }
  body += static_cast<double>(spec.in_channels) * 64 * 49;
  const double head = features * static_cast<double>(spec.num_classes);
  return (body + head) * static_cast<double>(std::max<int64_t>(1, spec.branches));
}
}  // namespace

Net build_model(const ModelSpec& spec) {
  if (spec.in_channels < 1) fail(ErrorCode::InvalidArgument, "in_channels must be >= 1, got ", spec.in_channels);
  if (spec.num_classes < 2) fail(ErrorCode::InvalidArgument, "num_classes must be >= 2, got ", spec.num_classes);
  check_limit(Limit::Classes, spec.num_classes, "model '" + spec.arch + "'");
  const double estimate = estimate_parameters(spec);
  check_limit(Limit::Parameters, estimate >= 9.0e18 ? INT64_MAX : static_cast<int64_t>(estimate),
              "model '" + spec.arch + "' (estimated before it is built)");
  if (spec.branches != 0) {
    if (spec.gated) fail(ErrorCode::InvalidArgument, "student search gates a plain network, not a ONE one (branches must be 0)");
    return std::make_shared<OneNetImpl>(spec, spec.branches);
  }
  if (!spec.blocks.empty() || spec.gated) {
    const Arch* found = find_arch(spec.arch);
    if (found == nullptr || !found->cifar) {
      fail(ErrorCode::InvalidArgument, spec.gated ? "student search" : "custom blocks",
           " works on CIFAR ResNets (resnet8 ... resnet110, ", "resnet8x4, resnet32x4), not '", spec.arch, "'");
    }
    CifarResNetOptions options = *found->cifar;
    options.blocks = spec.blocks;
    options.gated = spec.gated;
    return make_cifar_resnet(options, spec.in_channels, spec.num_classes);
  }
  if (spec.arch.rfind(kWrnPrefix, 0) == 0) {
    return make_wide_resnet(parse_wrn(spec.arch), spec.in_channels, spec.num_classes);
  }
  for (const auto& arch : table()) {
    if (arch.name == spec.arch) return arch.make(spec.in_channels, spec.num_classes);
  }
  std::ostringstream valid;
  for (const auto& name : list_archs()) valid << name << ", ";
  fail(ErrorCode::InvalidArgument, "unknown arch '", spec.arch, "'; valid: ", valid.str(), "or any wrn-D-K with (D-4)%6==0");
}

StagedNet build_staged_model(const ModelSpec& spec) {
  if (spec.branches != 0) fail(ErrorCode::InvalidArgument, "a staged network is a plain one: branches must be 0");
  StagedNet net = std::dynamic_pointer_cast<StagedNetImpl>(build_model(spec));
  if (!net) fail(ErrorCode::InvalidArgument, "arch '", spec.arch, "' does not split into a trunk and a branch");
  return net;
}

std::vector<std::string> list_archs() {
  std::vector<std::string> names;
  for (const auto& arch : table()) names.push_back(arch.name);
  names.insert(names.end(), kListedWrn.begin(), kListedWrn.end());
  return names;
}

int64_t count_parameters(const NetImpl& net) {
  int64_t total = 0;
  for (const auto& p : net.parameters()) total += p.numel();
  return total;
}

}  // namespace distillery::models

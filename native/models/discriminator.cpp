#include "models/discriminator.h"

#include <algorithm>

#include "core/error.h"

namespace distillery::models {

DiscriminatorImpl::DiscriminatorImpl(int64_t in_features, const DiscriminatorOptions& options)
    : in_features_(in_features), output_relu_(options.output_relu) {
  if (in_features < 1) fail(ErrorCode::InvalidArgument, "a discriminator needs at least one input feature, got ", in_features);
  if (options.min_width < 1)
    fail(ErrorCode::InvalidArgument, "discriminator minimum width must be >= 1, got ", options.min_width);
  int64_t width = in_features;
  std::vector<int64_t> widths;
  for (int64_t divisor : options.divisors) {
    if (divisor < 1) fail(ErrorCode::InvalidArgument, "discriminator width divisors must be >= 1, got ", divisor);
    widths.push_back(std::max(in_features / divisor, options.min_width));
  }
  widths.push_back(2);
  for (size_t i = 0; i < widths.size(); ++i) {
    layers_.push_back(register_module("fc" + std::to_string(i + 1), torch::nn::Linear(width, widths[i])));
    width = widths[i];
  }
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 2 || x.size(1) != in_features_) {
    fail(ErrorCode::Shape, "discriminator input must be [N, ", in_features_, "], got ", x.sizes());
  }
  torch::Tensor out = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    out = layers_[i]->forward(out);
    if (i + 1 < layers_.size() || output_relu_) out = torch::relu(out);
  }
  return out;
}

namespace {
class GradientReversal : public torch::autograd::Function<GradientReversal> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double scale) {
    ctx->saved_data["scale"] = scale;
    return x.view_as(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const double scale = ctx->saved_data["scale"].toDouble();
    return {grads[0] * -scale, torch::Tensor()};
  }
};
}  // namespace

torch::Tensor reverse_gradient(const torch::Tensor& x, double scale) { return GradientReversal::apply(x, scale); }

}  // namespace distillery::models

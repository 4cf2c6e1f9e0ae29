#include "models/layers.h"

#include "distributed/sync_batch_norm.h"

namespace distillery::models {

namespace nn = torch::nn;

nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

void init_conv_bn(nn::Module& root) {
  torch::NoGradGuard no_grad;
  // include_self=false: callers run this from their constructor, before a shared_ptr owns them.
  for (const auto& module : root.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2dImpl>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<BatchNorm2dImpl>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

BatchNorm2dImpl::BatchNorm2dImpl(const nn::BatchNormOptions& options_) : options(options_) { reset(); }

void BatchNorm2dImpl::reset() {
  const int64_t n = options.num_features();
  weight = register_parameter("weight", torch::ones({n}), options.affine());
  bias = register_parameter("bias", torch::zeros({n}), options.affine());
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({n}));
    running_var = register_buffer("running_var", torch::ones({n}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  }
}

void BatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "BatchNorm2d(" << options.num_features() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum().has_value()) {
    stream << *options.momentum();
  } else {
    stream << "None";
  }
  stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats() << ")";
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 4) fail(ErrorCode::Shape, "BatchNorm2d expects 4-d (N, C, H, W) input, got ", x.sizes());
  const bool batch_stats = is_training() || !options.track_running_stats();
  // As torch.nn.BatchNorm: momentum None means a cumulative average over the batches seen.
  double factor = 0.0;
  if (is_training() && options.track_running_stats()) {
    num_batches_tracked.add_(1);
    factor = options.momentum().has_value() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
  }
  distributed::ProcessGroup* group = distributed::sync_batch_norm_group();
  if (group != nullptr && group->size() > 1 && is_training() && options.track_running_stats()) {
    return distributed::sync_batch_norm(x, weight, bias, running_mean, running_var, factor, options.eps(), *group);
  }
  return torch::batch_norm(x, weight, bias, running_mean, running_var, batch_stats, factor, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

torch::Tensor global_pool(const torch::Tensor& x) { return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1); }

}  // namespace distillery::models

#include "distributed/sync_batch_norm.h"

#include <torch/autograd.h>

#include "core/error.h"

namespace distillery::distributed {

namespace {
thread_local ProcessGroup* current_group = nullptr;

// Sum over ranks whose gradient is again the sum over ranks: every rank's loss depends on the
// global statistics, so each input receives the gradients of all ranks' losses.
class AllReduceSum : public torch::autograd::Function<AllReduceSum> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input, ProcessGroup* group) {
    // A non-owning pointer: the group outlives every step that uses it.
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    torch::Tensor out = input.clone();
    group->all_reduce(out);
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto* group = reinterpret_cast<ProcessGroup*>(ctx->saved_data["group"].toInt());
    torch::Tensor g = grads[0].contiguous().clone();
    group->all_reduce(g);
    return {g, torch::Tensor()};
  }
};
}  // namespace

SyncBatchNormScope::SyncBatchNormScope(ProcessGroup* group) : previous_(current_group) { current_group = group; }

SyncBatchNormScope::~SyncBatchNormScope() { current_group = previous_; }

ProcessGroup* sync_batch_norm_group() { return current_group; }

torch::Tensor sync_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                              torch::Tensor& running_mean, torch::Tensor& running_var, double momentum, double eps,
                              ProcessGroup& group) {
  if (x.dim() != 4) fail(ErrorCode::Shape, "SyncBatchNorm expects NCHW input, got ", x.sizes());
  const int64_t channels = x.size(1);
  const std::vector<int64_t> dims{0, 2, 3};
  // float64 sums keep E[x^2] - E[x]^2 accurate enough to match a single process's two-pass variance.
  const torch::Tensor local =
      torch::cat({x.sum(dims, false, torch::kDouble), (x * x).sum(dims, false, torch::kDouble),
                  torch::full({1}, static_cast<double>(x.numel() / channels), x.options().dtype(torch::kDouble))});
  const torch::Tensor global = AllReduceSum::apply(local, &group);
  const torch::Tensor count = global.narrow(0, 2 * channels, 1);
  const torch::Tensor mean = global.narrow(0, 0, channels) / count;
  const torch::Tensor var = (global.narrow(0, channels, channels) / count - mean * mean).clamp_min(0);
  {
    torch::NoGradGuard no_grad;
    running_mean.mul_(1 - momentum).add_(mean.detach().to(running_mean.scalar_type()), momentum);
    // n / (n - 1), and 1 for a single value, kept on the device: no host synchronisation per layer.
    const torch::Tensor unbiased = count.detach() / (count.detach() - 1).clamp_min(1);
    running_var.mul_(1 - momentum).add_((var.detach() * unbiased).to(running_var.scalar_type()), momentum);
  }
  const torch::Tensor invstd = (var + eps).rsqrt().to(x.scalar_type()).view({1, channels, 1, 1});
  torch::Tensor y = (x - mean.to(x.scalar_type()).view({1, channels, 1, 1})) * invstd;
  if (weight.defined()) y = y * weight.view({1, channels, 1, 1});
  if (bias.defined()) y = y + bias.view({1, channels, 1, 1});
  return y;
}

}  // namespace distillery::distributed

#include "models/flops.h"

#include <ATen/record_function.h>

#include <cstring>
#include <memory>

#include "core/error.h"

namespace distillery::models {
namespace {

// RecordFunction takes plain function pointers; the count is per thread, as the callback is.
thread_local int64_t t_macs = 0;

int64_t numel(c10::IntArrayRef sizes) {
  int64_t n = 1;
  for (const int64_t s : sizes) n *= s;
  return n;
}

int64_t convolution_macs(const c10::ArrayRef<const c10::IValue>& in) {
  // aten::convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
  if (in.size() < 9 || !in[0].isTensor() || !in[1].isTensor()) return 0;
  const auto x = in[0].toTensor().sizes();
  const auto w = in[1].toTensor().sizes();
  const auto stride = in[3].toIntVector();
  const auto padding = in[4].toIntVector();
  const auto dilation = in[5].toIntVector();
  const int64_t groups = in[8].toInt();
  const size_t spatial = w.size() - 2;
  if (x.size() != w.size() || in[6].toBool()) return 0;  // transposed convolutions are not in the zoo
  int64_t out_positions = x[0];
  for (size_t d = 0; d < spatial; ++d) {
    const int64_t s = stride.size() == 1 ? stride[0] : stride[d];
    const int64_t p = padding.size() == 1 ? padding[0] : padding[d];
    const int64_t l = dilation.size() == 1 ? dilation[0] : dilation[d];
    out_positions *= (x[2 + d] + 2 * p - l * (w[2 + d] - 1) - 1) / s + 1;
  }
  // Each output value of each output channel sums over (C_in / groups) * kernel products.
  return out_positions * w[0] * (x[1] / groups) * numel(w.slice(2));
}

// Products of a matrix multiply x @ w with x [..., k] and w [k, m] (w [m, k] for linear).
int64_t matmul_macs(c10::IntArrayRef x, int64_t k, int64_t m) { return numel(x) / k * k * m; }

// One counted op's MACs; ops a counted op runs inside itself (aten::linear's aten::addmm, aten::
// convolution's backend kernel) are skipped, so nothing is counted twice.
int64_t op_macs(const char* name, const c10::ArrayRef<const c10::IValue>& in, bool& counted) {
  counted = true;
  const auto tensor_sizes = [&](size_t i) { return in[i].toTensor().sizes(); };
  const bool tensors = in.size() >= 2 && in[0].isTensor() && in[1].isTensor();
  if (std::strcmp(name, "aten::convolution") == 0) return convolution_macs(in);
  if (std::strcmp(name, "aten::linear") == 0 && tensors) {
    // The C++ API's Linear calls addmm or matmul directly; aten::linear is what Python-built graphs call.
    return matmul_macs(tensor_sizes(0), tensor_sizes(1)[1], tensor_sizes(1)[0]);
  }
  if ((std::strcmp(name, "aten::matmul") == 0 || std::strcmp(name, "aten::mm") == 0) && tensors && tensor_sizes(1).size() == 2) {
    return matmul_macs(tensor_sizes(0), tensor_sizes(1)[0], tensor_sizes(1)[1]);
  }
  if (std::strcmp(name, "aten::addmm") == 0 && in.size() >= 3 && in[1].isTensor() && in[2].isTensor()) {
    return matmul_macs(in[1].toTensor().sizes(), in[2].toTensor().sizes()[0], in[2].toTensor().sizes()[1]);
  }
  counted = false;
  return 0;
}

thread_local int t_depth = 0;

// A non-null context marks a counted op, so its end callback knows to leave it.
struct Counted : at::ObserverContext {};

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  if (t_depth > 0) return nullptr;
  bool counted = false;
  const int64_t macs = op_macs(fn.name(), fn.inputs(), counted);
  if (!counted) return nullptr;
  t_macs += macs;
  ++t_depth;
  return std::make_unique<Counted>();
}

void on_end(const at::RecordFunction&, at::ObserverContext* context) {
  if (context != nullptr) --t_depth;
}

// Removes the callback however the forward pass ends.
class CallbackScope {
 public:
  CallbackScope() : handle_(at::addThreadLocalCallback(at::RecordFunctionCallback(&on_start, &on_end).needsInputs(true))) {}
  ~CallbackScope() { at::removeCallback(handle_); }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  at::CallbackHandle handle_;
};

}  // namespace

int64_t count_flops(NetImpl& net, const std::vector<int64_t>& chw) {
  if (chw.size() != 3 || chw[0] < 1 || chw[1] < 1 || chw[2] < 1) {
    fail(ErrorCode::InvalidArgument, "FLOPs are counted for one input of shape [C, H, W], got ", chw.size(), " dimension(s)");
  }
  const bool training = net.is_training();
  const auto device = net.parameters().front().device();
  net.eval();
  t_macs = 0;
  t_depth = 0;
  try {
    torch::NoGradGuard no_grad;
    CallbackScope scope;
    net.outputs(torch::zeros({1, chw[0], chw[1], chw[2]}, torch::TensorOptions().device(device)));
  } catch (...) {
    net.train(training);
    throw;
  }
  net.train(training);
  return t_macs;
}

}  // namespace distillery::models

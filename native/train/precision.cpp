#include "train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/error.h"

namespace distillery::train {

namespace {
// LibTorch 2.4 replaced the per-device autocast calls with device-generic ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_autocast_enabled(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
at::ScalarType autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_autocast_dtype(bool cuda, at::ScalarType t) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t); }
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_autocast_enabled(bool cuda, bool on) {
  if (cuda) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
}
at::ScalarType autocast_dtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(bool cuda, at::ScalarType t) {
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(t);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
  }
}
#endif
}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::Float32;
  if (name == "bf16") return Precision::BFloat16;
  if (name == "fp16") return Precision::Float16;
  fail(ErrorCode::InvalidArgument, "precision must be \"fp32\", \"bf16\" or \"fp16\", got '", name, "'");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::Float32:
      return "fp32";
    case Precision::BFloat16:
      return "bf16";
    case Precision::Float16:
      return "fp16";
  }
  return "fp32";
}

void check_precision(torch::Device device, Precision precision) {
  if (precision == Precision::Float16 && !device.is_cuda()) {
    fail(ErrorCode::InvalidArgument, "fp16 autocast runs on CUDA devices only; on ", device.str(),
         " use bf16 (--precision bf16) or fp32");
  }
}

AutocastScope::AutocastScope(torch::Device device, Precision precision) {
  if (precision == Precision::Float32) return;
  cuda_ = device.is_cuda();
  was_enabled_ = autocast_enabled(cuda_);
  was_dtype_ = autocast_dtype(cuda_);
  set_autocast_dtype(cuda_, precision == Precision::BFloat16 ? at::kBFloat16 : at::kHalf);
  set_autocast_enabled(cuda_, true);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Casts cached for this region hold weights in low precision; they are stale after the step.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(cuda_, was_enabled_);
  set_autocast_dtype(cuda_, was_dtype_);
}

LossScaler::LossScaler(const LossScalerOptions& options) : options_(options), scale_(options.init_scale) {
  if (!(options.init_scale > 0)) fail(ErrorCode::InvalidArgument, "lossScale.initScale must be > 0, got ", options.init_scale);
  if (!(options.growth_factor > 1))
    fail(ErrorCode::InvalidArgument, "lossScale.growthFactor must be > 1, got ", options.growth_factor);
  if (!(options.backoff_factor > 0 && options.backoff_factor < 1)) {
    fail(ErrorCode::InvalidArgument, "lossScale.backoffFactor must be in (0, 1), got ", options.backoff_factor);
  }
  if (options.growth_interval < 1)
    fail(ErrorCode::InvalidArgument, "lossScale.growthInterval must be >= 1, got ", options.growth_interval);
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> finite;
  for (const auto& p : params) {
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    g.mul_(1.0 / scale_);
    finite.push_back(torch::isfinite(g).all());
  }
  // One host synchronisation for all parameters.
  return !finite.empty() && !torch::stack(finite).all().item<bool>();
}

void LossScaler::update(bool found_inf) {
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    clean_steps_ = 0;
    return;
  }
  if (++clean_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    clean_steps_ = 0;
  }
}

io::TensorList LossScaler::state(const std::string& prefix) {
  return {{prefix + "scale", torch::tensor(scale_, torch::kDouble)},
          {prefix + "clean_steps", torch::tensor(clean_steps_, torch::kLong)}};
}

void LossScaler::load_state(const io::TensorList& tensors, const std::string& prefix) {
  for (const auto& [name, t] : tensors) {
    if (name == prefix + "scale") scale_ = t.item<double>();
    if (name == prefix + "clean_steps") clean_steps_ = t.item<int64_t>();
  }
}

}  // namespace distillery::train

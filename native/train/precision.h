#pragma once
// Mixed precision: autocast around forward passes (bf16 on CPU or CUDA, fp16 on CUDA) and the
// dynamic loss scaling fp16 gradients need, which LibTorch's C++ frontend lacks (PyTorch's
// GradScaler is Python): scale the loss, unscale the gradients, skip a step whose gradients
// overflowed, halve the scale then, and double it after a run of clean steps.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "train/stateful.h"

namespace distillery::train {

enum class Precision { Float32, BFloat16, Float16 };
/** "fp32" | "bf16" | "fp16"; E_ARGUMENT naming the value otherwise. */
Precision parse_precision(const std::string& name);
const char* precision_name(Precision precision);

/** While alive, ops on `device` autocast to `precision` on this thread (nothing for fp32). */
class AutocastScope {
 public:
  AutocastScope(torch::Device device, Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

/** E_ARGUMENT unless `precision` can run on `device` (fp16 autocast is CUDA-only in LibTorch). */
void check_precision(torch::Device device, Precision precision);

struct LossScalerOptions {
  double init_scale = 65536.0;  // 2^16, as torch.cuda.amp.GradScaler
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class LossScaler : public Stateful {
 public:
  explicit LossScaler(const LossScalerOptions& options);

  double scale() const { return scale_; }
  torch::Tensor scale_loss(const torch::Tensor& loss) const { return loss * scale_; }
  /** Divides every defined gradient of `params` by the scale; true when any holds inf or NaN. */
  bool unscale(const std::vector<torch::Tensor>& params) const;
  /** After a step's unscale calls: backs off on overflow, grows after growth_interval clean steps. */
  void update(bool found_inf);

  io::TensorList state(const std::string& prefix) override;
  void load_state(const io::TensorList& tensors, const std::string& prefix) override;
  // Every rank sees the same averaged gradients, so the same overflows: nothing to exchange.
  void distribute(const std::shared_ptr<distributed::ProcessGroup>&, const distributed::SyncOptions&) override {}

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t clean_steps_ = 0;
};

}  // namespace distillery::train

#pragma once
// Data-parallel gradient averaging, as PyTorch's DDP reducer does it: parameters grouped into
// buckets (in reverse registration order, roughly the order backward produces their gradients),
// each bucket all-reduced as soon as its last gradient arrives while backward goes on, and the
// averaged gradients written back before the optimizer steps.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "distributed/process_group.h"

namespace distillery::distributed {

struct SyncOptions {
  int64_t bucket_bytes = 25 * 1024 * 1024;       // DDP's bucket_cap_mb default
  int64_t first_bucket_bytes = 1 * 1024 * 1024;  // small, so the first reduction starts early
};

class GradientSync {
 public:
  GradientSync(std::shared_ptr<ProcessGroup> group, const std::vector<torch::Tensor>& params, const SyncOptions& options);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  /** Before a backward: waits for reductions still in flight and arms the hooks. */
  void prepare();
  /**
   * After it: reduces the buckets backward did not complete, waits for all, and sets each
   * parameter's gradient to the mean over ranks. Parameters that got no gradient keep none.
   * Once per prepare(): later calls return at once.
   */
  void finish();

  int64_t bucket_count() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace distillery::distributed

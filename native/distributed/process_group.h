#pragma once
// One c10d process group per training process: TCPStore rendezvous at MASTER_ADDR:MASTER_PORT,
// then Gloo (CPU tensors) or NCCL (CUDA tensors). Collectives are launched in the same order on
// every rank by construction (the same code runs the same steps); a failure names this rank and
// the likely cause, a peer that died.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace distillery::distributed {

struct GroupOptions {
  std::string backend = "gloo";  // "gloo" (CPU tensors) | "nccl" (CUDA tensors)
  int64_t rank = 0;
  int64_t world_size = 1;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};  // PyTorch's default for Gloo
  // This rank's device. NCCL reduces CUDA tensors only: host tensors (counts, losses) are staged there.
  torch::Device device{torch::kCPU};
};

/** Waits for a collective launched asynchronously; throws E_DISTRIBUTED when it failed. */
using Pending = std::function<void()>;

class ProcessGroup {
 public:
  /** Joins the group; blocks until every rank has (or the timeout passes: E_DISTRIBUTED). */
  explicit ProcessGroup(const GroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int64_t rank() const { return options_.rank; }
  int64_t size() const { return options_.world_size; }
  const std::string& backend() const { return options_.backend; }

  /** Starts an in-place sum of `tensor` over the ranks. */
  Pending all_reduce_async(torch::Tensor tensor);
  /** Sums `tensor` over the ranks, in place. */
  void all_reduce(torch::Tensor tensor);
  /** Starts copying rank `root`'s `tensor` into every other rank's. */
  Pending broadcast_async(torch::Tensor tensor, int64_t root);
  /** Returns when every rank has called it. */
  void barrier();

  /** Whether this build can create groups of `backend` (Gloo: libgloo headers; NCCL: a CUDA LibTorch). */
  static bool supports(const std::string& backend);

 private:
  // NCCL reduces device tensors only: a host tensor goes through a copy on this rank's device.
  Pending staged(torch::Tensor tensor, const std::function<Pending(torch::Tensor)>& launch);
  struct Impl;
  GroupOptions options_;
  std::unique_ptr<Impl> impl_;
};

/** Overwrites `tensors` with rank 0's, in one broadcast per dtype. */
void broadcast_from_rank0(ProcessGroup& group, const std::vector<torch::Tensor>& tensors);
/** Broadcasts every parameter and buffer of `module` from rank 0. */
void broadcast_module(ProcessGroup& group, torch::nn::Module& module);

}  // namespace distillery::distributed

#pragma once
// Process-wide LibTorch settings: devices, intra-op threads, seeds, and the LibTorch build check.
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace distillery {

/** Parses "cpu", "cuda" or "cuda:N", and checks that the device exists. */
torch::Device parse_device(const std::string& spec);

/** Threads LibTorch uses for one op on the compute thread, which applies it before every task. */
void set_thread_count(int64_t threads);
int thread_count();
/** Applies the configured count to the calling thread (the compute thread, before every task). */
void apply_thread_count();
/**
 * Makes LibTorch ops on the calling thread run serially. Every other thread that touches tensors
 * (the JS thread, libuv workers, loader threads) calls it: an OpenMP team of their own would make
 * libgomp count more threads than cores and cut the compute team's spin-waiting to almost nothing,
 * which costs ~10% of step throughput (bench/README.md).
 */
void keep_thread_serial();

/** Seeds LibTorch's CPU (and, when present, CUDA) generators. */
void seed_everything(uint64_t seed);

struct TorchInfo {
  std::string compiled_version;  // from torch/version.h when the addon was built
  std::string runtime_version;   // from the loaded libtorch's build settings ("" if it does not say)
  std::string source;            // how the build found LibTorch
  bool cuda_available;
  int cuda_device_count;
  std::string library_path;  // the libtorch (libtorch_cpu) this process loaded
  bool cudnn_available;
  int64_t cudnn_version;         // e.g. 90100 for 9.1.0; 0 when absent
  int64_t cuda_runtime_version;  // e.g. 12040; 0 when absent
};
TorchInfo torch_info();

/** Throws when the loaded libtorch is not the version the addon was compiled against. */
void check_torch_runtime();

}  // namespace distillery

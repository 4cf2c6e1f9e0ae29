#pragma once
// What a CUDA LibTorch can tell about its GPUs and its caching allocator. With a CPU-only LibTorch
// (the Debian default) these report no devices, and the memory calls say that CUDA is missing.
#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

struct CudaDevice {
  std::string name;
  int64_t total_memory = 0;  // bytes
  int major = 0;             // compute capability
  int minor = 0;
};

/** Every visible GPU, in index order; empty without CUDA. */
std::vector<CudaDevice> cuda_devices();

struct CudaMemory {
  int64_t allocated = 0;  // bytes in live tensors
  int64_t reserved = 0;   // bytes the caching allocator holds
  int64_t peak_allocated = 0;
};

/** The caching allocator's counters for `device`; E_DEVICE without CUDA or for a bad index. */
CudaMemory cuda_memory(int device);

/** Returns the caching allocator's unused blocks to the driver (nothing without CUDA). */
void cuda_empty_cache();

/** Whether this addon was built against a CUDA LibTorch. */
bool built_with_cuda();

}  // namespace distillery

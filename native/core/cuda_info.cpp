#include "core/cuda_info.h"

#include <torch/torch.h>

#include "core/error.h"

#ifdef DISTILLERY_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace distillery {

bool built_with_cuda() {
#ifdef DISTILLERY_WITH_CUDA
  return true;
#else
  return false;
#endif
}

std::vector<CudaDevice> cuda_devices() {
  std::vector<CudaDevice> out;
#ifdef DISTILLERY_WITH_CUDA
  if (!torch::cuda::is_available()) return out;
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i) {
    const auto* p = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
    out.push_back({p->name, static_cast<int64_t>(p->totalGlobalMem), p->major, p->minor});
  }
#endif
  return out;
}

CudaMemory cuda_memory(int device) {
#ifdef DISTILLERY_WITH_CUDA
  if (!torch::cuda::is_available() || device < 0 || device >= static_cast<int>(torch::cuda::device_count())) {
    fail(ErrorCode::Device, "no CUDA device ", device, " (", torch::cuda::device_count(), " visible)");
  }
  // Index 0 of each counter is the aggregate over pool kinds (StatType::AGGREGATE in every version).
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
  CudaMemory m;
  m.allocated = stats.allocated_bytes[0].current;
  m.reserved = stats.reserved_bytes[0].current;
  m.peak_allocated = stats.allocated_bytes[0].peak;
  return m;
#else
  fail(ErrorCode::Device, "CUDA memory statistics need a CUDA LibTorch; this addon was built against a CPU-only one ",
       "(docs/install.md, CUDA)");
#endif
}

void cuda_empty_cache() {
#ifdef DISTILLERY_WITH_CUDA
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

}  // namespace distillery

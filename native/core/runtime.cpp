#include "core/runtime.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <atomic>
#include <regex>
#include <thread>

#include "core/error.h"
#include "core/limits.h"

namespace distillery {

namespace {
std::atomic<int> g_threads{0};

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}
}  // namespace

torch::Device parse_device(const std::string& spec) {
  static const std::regex pattern("^(cpu|cuda)(:([0-9]+))?$");
  std::smatch m;
  if (!std::regex_match(spec, m, pattern) || (m[1] == "cpu" && m[2].matched)) {
    fail(ErrorCode::Device, "unknown device '", spec, "': use \"cpu\", \"cuda\" or \"cuda:N\"");
  }
  if (m[1] == "cpu") return torch::Device(torch::kCPU);
  if (!torch::cuda::is_available()) {
    fail(ErrorCode::Device, "device '", spec,
         "' asked for, but this LibTorch sees no CUDA GPU (a CPU-only LibTorch, or no driver): "
         "use --device cpu, or rebuild against a CUDA LibTorch (docs/install.md)");
  }
  const int index = m[3].matched ? std::stoi(m[3]) : 0;
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    fail(ErrorCode::Device, "device '", spec, "' does not exist: ", count, " CUDA device(s) visible");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void set_thread_count(int64_t threads) {
  if (threads < 0) fail(ErrorCode::InvalidArgument, "thread count must be >= 1 (or 0 for all cores), got ", threads);
  check_limit(Limit::Threads, threads, "intra-op thread count");
  g_threads = threads == 0 ? default_threads() : static_cast<int>(threads);
}

int thread_count() {
  const int n = g_threads.load();
  return n == 0 ? default_threads() : n;
}

void apply_thread_count() {
  const int n = thread_count();
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

void keep_thread_serial() {
  // Runs LibTorch's per-thread lazy initialisation first, which would otherwise later raise this
  // thread's OpenMP count back to the process-wide one.
  (void)at::get_num_threads();
  // The OpenMP runtime LibTorch loaded (libgomp, or a wheel's renamed copy of it) is the one in the
  // process, so look the call up there rather than link one of our own; no OpenMP, nothing to do.
  using SetNumThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set != nullptr) set(1);
}

void seed_everything(uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

TorchInfo torch_info() {
  TorchInfo info;
  info.compiled_version = DISTILLERY_TORCH_VERSION;
  info.source = DISTILLERY_TORCH_SOURCE;
  static const std::regex version_pattern("TORCH_VERSION=([0-9]+\\.[0-9]+\\.[0-9]+)");
  const std::string config = at::show_config();
  std::smatch m;
  info.runtime_version = std::regex_search(config, m, version_pattern) ? m[1].str() : "";
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  Dl_info where{};
  info.library_path =
      dladdr(reinterpret_cast<void*>(&at::show_config), &where) != 0 && where.dli_fname != nullptr ? where.dli_fname : "";
  const auto& hooks = at::detail::getCUDAHooks();
  info.cudnn_available = info.cuda_available && hooks.hasCuDNN();
  info.cudnn_version = info.cudnn_available ? hooks.versionCuDNN() : 0;
  info.cuda_runtime_version = info.cuda_available ? hooks.versionCUDART() : 0;
  return info;
}

void check_torch_runtime() {
  const TorchInfo info = torch_info();
  if (!info.runtime_version.empty() && info.runtime_version != info.compiled_version) {
    fail(ErrorCode::Torch, "the loaded LibTorch is ", info.runtime_version, " but distillery was built against ",
         info.compiled_version, " (", info.source,
         "): rebuild the addon with `npx distillery build`, "
         "or point LIBTORCH / LD_LIBRARY_PATH at the LibTorch it was built with");
  }
}

}  // namespace distillery

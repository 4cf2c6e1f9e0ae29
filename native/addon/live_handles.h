#pragma once
// Counts of the native handles JS holds (not yet disposed or collected), per kind, so a test can
// check that a run releases everything it made on every path, errors included.
#include <napi.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace distillery::addon {

enum class HandleKind : size_t { Model, Dataset, Batch, Loader, Trainer, Objective, ProcessGroup, SoftLabelWriter, Count };

/** One environment's counts (a worker thread that loads the addon has its own). */
struct LiveCounts {
  std::array<std::atomic<int64_t>, static_cast<size_t>(HandleKind::Count)> counts{};
};

/** Held by a wrapper while it owns a native object: counted from construction to release(). */
class LiveHandle {
 public:
  LiveHandle() = default;
  LiveHandle(Napi::Env env, HandleKind kind);
  ~LiveHandle() { release(); }
  LiveHandle(LiveHandle&& other) noexcept : counts_(std::move(other.counts_)), kind_(other.kind_) {}
  LiveHandle& operator=(LiveHandle&& other) noexcept;
  LiveHandle(const LiveHandle&) = delete;
  LiveHandle& operator=(const LiveHandle&) = delete;
  /** Stops counting this handle (dispose); later calls do nothing. */
  void release();

 private:
  std::shared_ptr<LiveCounts> counts_;
  HandleKind kind_ = HandleKind::Model;
};

/** Registers liveHandles(): {Model, Dataset, Batch, Loader, Trainer, Objective, ProcessGroup, SoftLabelWriter} counts. */
void define_live_handles(Napi::Env env, Napi::Object exports);

}  // namespace distillery::addon

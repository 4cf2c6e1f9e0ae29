#pragma once
// One long-lived thread that runs every LibTorch computation (steps, evaluation, forwards).
//
// Why: with LibTorch's OpenMP backend each OS thread that starts parallel work gets its own OpenMP
// team, and idle teams spin. Running steps on whichever libuv thread is free leaves several teams
// spinning against the one working (measured: resnet56 steps 3-4% slower than Python's); funnelling
// the work through one thread keeps one team, as a Python training loop has (bench/README.md).
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace distillery {

class ComputeThread {
 public:
  /** The process-wide compute thread, started on first use. */
  static ComputeThread& instance();

  /** Queues `job` on the compute thread and returns at once; `job` must not throw. */
  void post(std::function<void()> job);

  ~ComputeThread();
  ComputeThread(const ComputeThread&) = delete;
  ComputeThread& operator=(const ComputeThread&) = delete;

 private:
  ComputeThread();
  void loop();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace distillery

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
#include <future>
#include <mutex>
#include <thread>
#include <utility>

namespace distillery {

class ComputeThread {
 public:
  /** The process-wide compute thread, started on first use. */
  static ComputeThread& instance();

  /** Runs `task` on the compute thread and waits for it; its result or exception comes back here. */
  template <typename Task>
  auto run(Task&& task) -> decltype(task()) {
    using Result = decltype(task());
    std::packaged_task<Result()> packaged(std::forward<Task>(task));
    std::future<Result> result = packaged.get_future();
    post([&packaged] { packaged(); });
    return result.get();
  }

  ~ComputeThread();
  ComputeThread(const ComputeThread&) = delete;
  ComputeThread& operator=(const ComputeThread&) = delete;

 private:
  ComputeThread();
  void post(std::function<void()> job);
  void loop();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace distillery

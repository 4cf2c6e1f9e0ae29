#pragma once
// Runs native work on the libuv pool and settles a promise: the one way the addon does anything
// that takes longer than a few microseconds, so the event loop stays free.
#include <napi.h>

#include <functional>
#include <optional>
#include <utility>

#include "addon/errors.h"
#include "core/compute_thread.h"
#include "core/runtime.h"

namespace distillery::addon {

/** Where work runs: LibTorch computation on the compute thread, waiting and file I/O on the libuv pool. */
enum class Executor { Compute, Pool };

template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, Work work, ToJs to_js, Executor executor)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        to_js_(std::move(to_js)),
        executor_(executor) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      if (executor_ == Executor::Compute) {
        result_.emplace(ComputeThread::instance().run(work_));
      } else {
        // Pool work is I/O and waiting; whatever tensor ops it does stay off OpenMP (see runtime.h).
        keep_thread_serial();
        result_.emplace(work_());
      }
    } catch (...) {
      error_ = classify(std::current_exception());
      SetError(error_.message);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(to_js_(env, *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(make_error(env, classify(std::current_exception())).Value());
    }
  }

  void OnError(const Napi::Error&) override { deferred_.Reject(make_error(Env(), error_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs to_js_;
  Executor executor_;
  std::optional<Result> result_;
  CaughtError error_;
};

/** Queues `work` off the JS thread; the promise resolves with to_js(result) or rejects with a DistilleryError. */
template <typename Result>
Napi::Promise run_async(Napi::Env env, std::function<Result()> work, std::function<Napi::Value(Napi::Env, Result&)> to_js,
                        Executor executor = Executor::Compute) {
  auto* worker = new PromiseWorker<Result>(env, std::move(work), std::move(to_js), executor);
  Napi::Promise promise = worker->promise();
  worker->Queue();  // the AsyncWorker deletes itself after OnOK/OnError
  return promise;
}

}  // namespace distillery::addon

#pragma once
// Runs native work off the JS thread and settles a promise: the one way the addon does anything that
// takes longer than a few microseconds, so the event loop stays free.
//
// Compute work is posted straight to the compute thread and comes back through a thread-safe
// function made for the call, so no libuv pool thread sits blocked for the length of a training
// step (with four steps in flight that would be the whole default pool, and file reads would queue
// behind them). Pool work (file I/O, waiting on other ranks) runs on the libuv pool as before.
#include <napi.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "addon/errors.h"
#include "core/compute_thread.h"
#include "core/runtime.h"

namespace distillery::addon {

/** Where work runs: LibTorch computation on the compute thread, waiting and file I/O on the libuv pool. */
enum class Executor { Compute, Pool };

template <typename Result>
using AsyncWork = std::function<Result()>;
template <typename Result>
using ToJs = std::function<Napi::Value(Napi::Env, Result&)>;

/** What one call carries from the JS thread to where it runs and back: its work, its outcome, its promise. */
template <typename Result>
struct AsyncCall {
  AsyncCall(Napi::Env env, AsyncWork<Result> work, ToJs<Result> to_js)
      : deferred(Napi::Promise::Deferred::New(env)), work(std::move(work)), to_js(std::move(to_js)) {}

  /** Runs the work where it was sent, keeping its result or its classified error. */
  void execute() noexcept {
    try {
      result.emplace(work());
    } catch (...) {
      error.emplace(classify(std::current_exception()));
    }
  }

  /** Settles the promise on the JS thread. */
  void settle(Napi::Env env) {
    if (error) {
      deferred.Reject(make_error(env, *error).Value());
      return;
    }
    try {
      deferred.Resolve(to_js(env, *result));
    } catch (const Napi::Error& e) {
      deferred.Reject(e.Value());
    } catch (...) {
      deferred.Reject(make_error(env, classify(std::current_exception())).Value());
    }
  }

  Napi::Promise::Deferred deferred;
  AsyncWork<Result> work;
  ToJs<Result> to_js;
  std::optional<Result> result;
  std::optional<CaughtError> error;
};

/** Pool work: an AsyncWorker around one call. */
template <typename Result>
class PoolWorker : public Napi::AsyncWorker {
 public:
  explicit PoolWorker(std::unique_ptr<AsyncCall<Result>> call)
      : Napi::AsyncWorker(call->deferred.Env()), call_(std::move(call)) {}

 protected:
  void Execute() override {
    // Pool work is I/O and waiting; whatever tensor ops it does stay off OpenMP (see runtime.h).
    keep_thread_serial();
    call_->execute();
  }
  void OnOK() override { call_->settle(Env()); }

 private:
  std::unique_ptr<AsyncCall<Result>> call_;
};

/** Called on the JS thread when the compute thread hands a finished call back. */
template <typename Result>
void settle_on_js_thread(Napi::Env env, Napi::Function, std::nullptr_t*, AsyncCall<Result>* raw) {
  std::unique_ptr<AsyncCall<Result>> call(raw);
  if (env == nullptr) return;  // the environment is being torn down: nobody is left to settle for
  Napi::HandleScope scope(env);
  call->settle(env);
}

/** Queues `work` off the JS thread; the promise resolves with to_js(result) or rejects with a DistilleryError. */
template <typename Result>
Napi::Promise run_async(Napi::Env env, AsyncWork<Result> work, ToJs<Result> to_js, Executor executor = Executor::Compute) {
  auto call = std::make_unique<AsyncCall<Result>>(env, std::move(work), std::move(to_js));
  Napi::Promise promise = call->deferred.Promise();
  if (executor == Executor::Pool) {
    (new PoolWorker<Result>(std::move(call)))->Queue();  // the AsyncWorker deletes itself after settling
    return promise;
  }
  using Return = Napi::TypedThreadSafeFunction<std::nullptr_t, AsyncCall<Result>, settle_on_js_thread<Result>>;
  // One thread-safe function per call: it keeps the event loop alive while the work is in flight,
  // as a pending AsyncWorker does, and is released by the one call that uses it.
  Return back = Return::New(env, "distillery:compute", 0, 1);
  ComputeThread::instance().post([back, raw = call.release()]() mutable {
    raw->execute();
    if (back.NonBlockingCall(raw) != napi_ok) delete raw;  // the environment closed while the work ran
    back.Release();
  });
  return promise;
}

}  // namespace distillery::addon

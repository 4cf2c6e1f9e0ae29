#pragma once
// Turns C++ failures into JS DistilleryError instances (class registered from TypeScript at load),
// so every error that reaches JavaScript carries a stable `code`.
#include <napi.h>

#include <exception>
#include <string>

namespace distillery::addon {

struct CaughtError {
  std::string code;
  std::string message;
};

/** Classifies the exception in flight: distillery::Error, c10::Error, std::exception, anything. */
CaughtError classify(std::exception_ptr error);

/** A JS DistilleryError (or plain Error before registration) with `code` set. */
Napi::Error make_error(Napi::Env env, const CaughtError& error);

/** Stores the DistilleryError constructor for this environment. */
void register_error_class(Napi::Env env, Napi::Function ctor);

/** Runs `body`, rethrowing any C++ failure as a JS DistilleryError. */
template <typename Body>
auto guarded(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw make_error(env, classify(std::current_exception()));
  }
}

}  // namespace distillery::addon

#include "addon/errors.h"

#include <c10/util/Exception.h>

#include "addon/instance.h"
#include "core/error.h"

namespace distillery::addon {

CaughtError classify(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const distillery::Error& e) {
    return {error_code_name(e.code()), e.what()};
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    // LibTorch reports allocation failures (CPU and CUDA) as c10::Error with this wording.
    if (what.find("out of memory") != std::string::npos || what.find("can't allocate memory") != std::string::npos ||
        what.find("Failed to allocate") != std::string::npos) {
      return {"E_OUT_OF_MEMORY", "out of memory (lower --batch-size or use a smaller model): " + what};
    }
    return {"E_TORCH", "LibTorch: " + what};
  } catch (const std::bad_alloc&) {
    return {"E_OUT_OF_MEMORY", "out of memory: lower --batch-size or use a smaller model"};
  } catch (const std::exception& e) {
    return {"E_INTERNAL", e.what()};
  } catch (...) {
    return {"E_INTERNAL", "unknown native exception"};
  }
}

Napi::Error make_error(Napi::Env env, const CaughtError& error) {
  Napi::Object object;
  const Napi::FunctionReference& ctor = instance(env).error_class;
  if (!ctor.IsEmpty()) {
    object = ctor.New({Napi::String::New(env, error.message), Napi::String::New(env, error.code)});
  } else {
    object = Napi::Error::New(env, error.message).Value();
    object.Set("code", Napi::String::New(env, error.code));
  }
  return Napi::Error(env, object);
}

void register_error_class(Napi::Env env, Napi::Function ctor) { instance(env).error_class = Napi::Persistent(ctor); }

}  // namespace distillery::addon

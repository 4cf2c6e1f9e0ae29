#include <napi.h>

#include "core/runtime.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("torchVersion", Napi::String::New(env, distillery::torch_info().compiled_version));
  return exports;
}

NODE_API_MODULE(distillery, Init)

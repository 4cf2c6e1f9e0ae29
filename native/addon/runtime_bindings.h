#pragma once
#include <napi.h>

namespace distillery::addon {

/** Process-level functions: errors, LibTorch info and checks, threads, seeds, zoo names, file metadata. */
void define_runtime(Napi::Env env, Napi::Object exports);

}  // namespace distillery::addon

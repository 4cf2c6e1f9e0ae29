#pragma once
#include <napi.h>

namespace distillery::addon {

/** writeSafetensors(path, tensors, metadata) and readSafetensors(path): named host tensors in files. */
void define_io(Napi::Env env, Napi::Object exports);

}  // namespace distillery::addon

#include "addon/io_bindings.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"

namespace distillery::addon {

namespace {
Napi::Value write_tensors(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "path");
    const io::TensorList tensors = named_tensors_from_js(info[1], "tensors");
    const io::Metadata metadata =
        info.Length() > 2 && !info[2].IsUndefined() ? string_map_from_js(info[2], "metadata") : io::Metadata{};
    return run_async<bool>(
        info.Env(),
        [path, tensors, metadata] {
          io::write_safetensors(path, tensors, metadata);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, Executor::Pool);
  });
}

Napi::Value read_tensors(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "path");
    return run_async<io::SafetensorsFile>(
        info.Env(), [path] { return io::read_safetensors(path); },
        [](Napi::Env env, io::SafetensorsFile& file) -> Napi::Value {
          Napi::Object tensors = Napi::Object::New(env);
          for (const auto& [name, tensor] : file.tensors) tensors.Set(name, tensor_to_js(env, tensor));
          Napi::Object out = Napi::Object::New(env);
          out.Set("tensors", tensors);
          out.Set("metadata", string_map_to_js(env, file.metadata));
          return out;
        },
        Executor::Pool);
  });
}

/** writeFileAtomic(path, text): the atomic writer checkpoints use, for the small files TypeScript
 *  writes (found.json, a cache's progress), so temporaries are named and cleaned up in one place. */
Napi::Value write_file_atomic(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "path");
    const std::string text = string_arg(info, 1, "text");
    return run_async<bool>(
        info.Env(),
        [path, text] {
          io::write_file_atomic(path, [&](std::FILE* file) { std::fwrite(text.data(), 1, text.size(), file); });
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, Executor::Pool);
  });
}
}  // namespace

void define_io(Napi::Env env, Napi::Object exports) {
  exports.Set("writeSafetensors", Napi::Function::New(env, write_tensors, "writeSafetensors"));
  exports.Set("readSafetensors", Napi::Function::New(env, read_tensors, "readSafetensors"));
  exports.Set("writeFileAtomic", Napi::Function::New(env, write_file_atomic, "writeFileAtomic"));
}

}  // namespace distillery::addon

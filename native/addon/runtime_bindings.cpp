#include "addon/runtime_bindings.h"

#include <optional>
#include <utility>
#include <vector>

#include "addon/convert.h"
#include "addon/errors.h"
#include "core/cuda_info.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/runtime.h"
#include "core/safe_integer.h"
#include "io/safetensors.h"
#include "models/net.h"

namespace distillery::addon {

namespace {
Napi::Value set_error_class(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass needs a constructor");
  register_error_class(info.Env(), info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value torch_info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const TorchInfo t = distillery::torch_info();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("compiledVersion", t.compiled_version);
    out.Set("runtimeVersion", t.runtime_version);
    out.Set("source", t.source);
    out.Set("cudaAvailable", t.cuda_available);
    out.Set("cudaDeviceCount", t.cuda_device_count);
    out.Set("threads", thread_count());
    out.Set("libraryPath", t.library_path);
    out.Set("cudnnAvailable", t.cudnn_available);
    out.Set("cudnnVersion", Napi::Number::New(env, static_cast<double>(t.cudnn_version)));
    out.Set("cudaRuntimeVersion", Napi::Number::New(env, static_cast<double>(t.cuda_runtime_version)));
    out.Set("builtWithCuda", built_with_cuda());
    Napi::Array devices = Napi::Array::New(env);
    uint32_t n = 0;
    for (const CudaDevice& d : cuda_devices()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", d.name);
      o.Set("totalMemory", Napi::Number::New(env, static_cast<double>(d.total_memory)));
      o.Set("capability", std::to_string(d.major) + "." + std::to_string(d.minor));
      devices.Set(n++, o);
    }
    out.Set("devices", devices);
    return out;
  });
}

Napi::Value cuda_memory(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int device = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
    const CudaMemory m = distillery::cuda_memory(device);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("allocated", Napi::Number::New(info.Env(), static_cast<double>(m.allocated)));
    out.Set("reserved", Napi::Number::New(info.Env(), static_cast<double>(m.reserved)));
    out.Set("peakAllocated", Napi::Number::New(info.Env(), static_cast<double>(m.peak_allocated)));
    return out;
  });
}

Napi::Value set_cudnn_benchmark(const Napi::CallbackInfo& info) {
  guarded(info.Env(), [&] {
    if (!info[0].IsBoolean()) fail(ErrorCode::InvalidArgument, "setCudnnBenchmark takes a boolean");
    at::globalContext().setBenchmarkCuDNN(info[0].As<Napi::Boolean>().Value());
  });
  return info.Env().Undefined();
}

Napi::Value empty_cache(const Napi::CallbackInfo& info) {
  guarded(info.Env(), [] { cuda_empty_cache(); });
  return info.Env().Undefined();
}

Napi::Value check_runtime(const Napi::CallbackInfo& info) {
  guarded(info.Env(), [] { check_torch_runtime(); });
  return info.Env().Undefined();
}

Napi::Value set_threads(const Napi::CallbackInfo& info) {
  guarded(info.Env(), [&] {
    const std::optional<int64_t> threads =
        info[0].IsNumber() ? safe_integer(info[0].As<Napi::Number>().DoubleValue()) : std::nullopt;
    if (!threads || *threads < 0) fail(ErrorCode::InvalidArgument, "threads must be a non-negative integer (0 for all cores)");
    set_thread_count(*threads);
  });
  return info.Env().Undefined();
}

Napi::Value get_limits(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  const LimitInfo* table = limit_table();
  for (size_t i = 0; i < static_cast<size_t>(Limit::kCount); ++i) {
    out.Set(table[i].name, Napi::Number::New(info.Env(), static_cast<double>(limit(table[i].limit))));
  }
  return out;
}

Napi::Value set_limits(const Napi::CallbackInfo& info) {
  guarded(info.Env(), [&] {
    if (!info[0].IsObject()) fail(ErrorCode::InvalidArgument, "setLimits takes an object of limits, e.g. {maxImagePixels: 4e8}");
    const Napi::Object given = info[0].As<Napi::Object>();
    const Napi::Array keys = given.GetPropertyNames();
    // Every key is checked before any limit changes, so a bad object changes nothing.
    std::vector<std::pair<Limit, int64_t>> changes;
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).ToString().Utf8Value();
      const std::optional<Limit> which = find_limit(key);
      if (!which) {
        std::string known;
        for (size_t l = 0; l < static_cast<size_t>(Limit::kCount); ++l)
          known += std::string(l ? ", " : "") + limit_table()[l].name;
        fail(ErrorCode::InvalidArgument, "unknown limit '", key, "'; the limits are ", known);
      }
      const Napi::Value value = given.Get(key);
      const std::optional<int64_t> v = value.IsNumber() ? safe_integer(value.As<Napi::Number>().DoubleValue()) : std::nullopt;
      if (!v || *v < 1) {
        fail(ErrorCode::InvalidArgument, "limits.", key, " must be a positive integer, got ", value.ToString().Utf8Value());
      }
      changes.emplace_back(*which, *v);
    }
    for (const auto& [which, value] : changes) set_limit(which, value);
  });
  return info.Env().Undefined();
}

Napi::Value manual_seed(const Napi::CallbackInfo& info) {
  guarded(info.Env(), [&] {
    if (!info[0].IsNumber()) fail(ErrorCode::InvalidArgument, "seed must be a number");
    const double seed = info[0].As<Napi::Number>().DoubleValue();
    if (seed < 0 || seed != static_cast<double>(static_cast<uint64_t>(seed))) {
      fail(ErrorCode::InvalidArgument, "seed must be a non-negative integer, got ", seed);
    }
    seed_everything(static_cast<uint64_t>(seed));
  });
  return info.Env().Undefined();
}

Napi::Value list_archs(const Napi::CallbackInfo& info) {
  const auto names = models::list_archs();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

Napi::Value read_metadata(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const io::Metadata meta = io::read_safetensors_metadata(string_arg(info, 0, "path"));
    return string_map_to_js(info.Env(), std::map<std::string, std::string>(meta.begin(), meta.end()));
  });
}
}  // namespace

void define_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, set_error_class, "setErrorClass"));
  exports.Set("torchInfo", Napi::Function::New(env, torch_info, "torchInfo"));
  exports.Set("checkRuntime", Napi::Function::New(env, check_runtime, "checkRuntime"));
  exports.Set("cudaMemory", Napi::Function::New(env, cuda_memory, "cudaMemory"));
  exports.Set("emptyCache", Napi::Function::New(env, empty_cache, "emptyCache"));
  exports.Set("setCudnnBenchmark", Napi::Function::New(env, set_cudnn_benchmark, "setCudnnBenchmark"));
  exports.Set("setThreads", Napi::Function::New(env, set_threads, "setThreads"));
  exports.Set("limits", Napi::Function::New(env, get_limits, "limits"));
  exports.Set("setLimits", Napi::Function::New(env, set_limits, "setLimits"));
  exports.Set("manualSeed", Napi::Function::New(env, manual_seed, "manualSeed"));
  exports.Set("listArchs", Napi::Function::New(env, list_archs, "listArchs"));
  exports.Set("readMetadata", Napi::Function::New(env, read_metadata, "readMetadata"));
}

}  // namespace distillery::addon

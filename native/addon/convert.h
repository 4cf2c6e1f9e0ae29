#pragma once
// Reading JS arguments (with errors that name the argument) and moving tensors across the boundary
// as plain typed arrays: { data: Float32Array | Int32Array | ..., shape: number[] }.
#include <napi.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace distillery::addon {

/** Typed access to an options object; every type error names `context.key`. */
class Options {
 public:
  Options(Napi::Value value, std::string context);
  bool has(const char* key) const;
  double number(const char* key, double fallback) const;
  double number(const char* key) const;
  int64_t integer(const char* key, int64_t fallback) const;
  bool boolean(const char* key, bool fallback) const;
  std::string string(const char* key, const std::string& fallback) const;
  std::string string(const char* key) const;
  std::vector<float> floats(const char* key, const std::vector<float>& fallback) const;
  std::vector<int64_t> integers(const char* key) const;
  Napi::Value value(const char* key) const;

 private:
  Napi::Value get(const char* key) const;
  Napi::Object object_;
  std::string context_;
};

/** The argument at `index`, which must be a string (error names `name`). */
std::string string_arg(const Napi::CallbackInfo& info, size_t index, const char* name);

/** Copies a { data, shape } host tensor into a CPU torch tensor. */
torch::Tensor tensor_from_js(Napi::Value value, const std::string& name);
/** Copies an array of { data, shape } host tensors into float32 CPU tensors (errors name `name`[i]). */
std::vector<torch::Tensor> float_tensors_from_js(Napi::Value value, const std::string& name);
/** Copies an object of { data, shape } host tensors into named CPU tensors, in property order. */
std::vector<std::pair<std::string, torch::Tensor>> named_tensors_from_js(Napi::Value value, const std::string& name);
/** Copies a CPU-or-device tensor into a { data, shape } host tensor (float32, int32, uint8 or float64). */
Napi::Object tensor_to_js(Napi::Env env, const torch::Tensor& tensor);

/** A plain JS value (objects, arrays, numbers, strings, booleans, null) as JSON; functions, typed
 *  arrays and nesting deeper than 32 levels are E_ARGUMENT naming `name`. */
nlohmann::json json_from_js(Napi::Value value, const std::string& name);
/** JSON as a plain JS value. */
Napi::Value json_to_js(Napi::Env env, const nlohmann::json& value);

Napi::Object string_map_to_js(Napi::Env env, const std::map<std::string, std::string>& map);
std::map<std::string, std::string> string_map_from_js(Napi::Value value, const std::string& name);

}  // namespace distillery::addon

#include "addon/convert.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/safe_integer.h"

namespace distillery::addon {

namespace {
std::string js_type(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  if (v.IsArray()) return "array";
  return "object";
}
}  // namespace

Options::Options(Napi::Value value, std::string context) : context_(std::move(context)) {
  if (value.IsUndefined() || value.IsNull()) {
    object_ = Napi::Object::New(value.Env());
  } else if (value.IsObject()) {
    object_ = value.As<Napi::Object>();
  } else {
    fail(ErrorCode::InvalidArgument, context_, " must be an object, got ", js_type(value));
  }
}

Napi::Value Options::get(const char* key) const { return object_.Get(key); }
bool Options::has(const char* key) const {
  const Napi::Value v = get(key);
  return !v.IsUndefined() && !v.IsNull();
}
Napi::Value Options::value(const char* key) const { return get(key); }

double Options::number(const char* key) const {
  const Napi::Value v = get(key);
  if (!v.IsNumber()) fail(ErrorCode::InvalidArgument, context_, ".", key, " must be a number, got ", js_type(v));
  return v.As<Napi::Number>().DoubleValue();
}

double Options::number(const char* key, double fallback) const { return has(key) ? number(key) : fallback; }

int64_t Options::integer(const char* key, int64_t fallback) const {
  if (!has(key)) return fallback;
  const double d = number(key);
  const std::optional<int64_t> out = safe_integer(d);
  if (!out) fail(ErrorCode::InvalidArgument, context_, ".", key, " must be an integer, got ", d);
  return *out;
}

bool Options::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  const Napi::Value v = get(key);
  if (!v.IsBoolean()) fail(ErrorCode::InvalidArgument, context_, ".", key, " must be a boolean, got ", js_type(v));
  return v.As<Napi::Boolean>().Value();
}

std::string Options::string(const char* key) const {
  const Napi::Value v = get(key);
  if (!v.IsString()) fail(ErrorCode::InvalidArgument, context_, ".", key, " must be a string, got ", js_type(v));
  return v.As<Napi::String>().Utf8Value();
}

std::string Options::string(const char* key, const std::string& fallback) const { return has(key) ? string(key) : fallback; }

std::vector<float> Options::floats(const char* key, const std::vector<float>& fallback) const {
  if (!has(key)) return fallback;
  std::vector<float> out;
  const Napi::Value v = get(key);
  if (!v.IsArray()) fail(ErrorCode::InvalidArgument, context_, ".", key, " must be an array of numbers, got ", js_type(v));
  const Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value item = a.Get(i);
    if (!item.IsNumber()) fail(ErrorCode::InvalidArgument, context_, ".", key, "[", i, "] must be a number, got ", js_type(item));
    out.push_back(item.As<Napi::Number>().FloatValue());
  }
  return out;
}

std::vector<int64_t> Options::integers(const char* key) const {
  std::vector<int64_t> out;
  if (!has(key)) return out;
  const Napi::Value v = get(key);
  if (v.IsTypedArray()) {
    const Napi::TypedArray t = v.As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_int32_array) {
      const Napi::Int32Array a = v.As<Napi::Int32Array>();
      out.assign(a.Data(), a.Data() + a.ElementLength());
      return out;
    }
  }
  if (!v.IsArray())
    fail(ErrorCode::InvalidArgument, context_, ".", key, " must be an array of integers or an Int32Array, got ", js_type(v));
  const Napi::Array a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const Napi::Value item = a.Get(i);
    if (!item.IsNumber())
      fail(ErrorCode::InvalidArgument, context_, ".", key, "[", i, "] must be an integer, got ", js_type(item));
    out.push_back(item.As<Napi::Number>().Int64Value());
  }
  return out;
}

std::vector<torch::Tensor> float_tensors_from_js(Napi::Value value, const std::string& name) {
  if (!value.IsArray()) fail(ErrorCode::InvalidArgument, name, " must be an array of tensors");
  const Napi::Array array = value.As<Napi::Array>();
  std::vector<torch::Tensor> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    out.push_back(tensor_from_js(array.Get(i), name + "[" + std::to_string(i) + "]").to(torch::kFloat));
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> named_tensors_from_js(Napi::Value value, const std::string& name) {
  if (!value.IsObject() || value.IsArray()) fail(ErrorCode::InvalidArgument, name, " must be an object of named tensors");
  const Napi::Object object = value.As<Napi::Object>();
  std::vector<std::pair<std::string, torch::Tensor>> out;
  const Napi::Array names = object.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string key = names.Get(i).As<Napi::String>().Utf8Value();
    out.emplace_back(key, tensor_from_js(object.Get(key), name + "." + key));
  }
  return out;
}

std::string string_arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsString()) {
    fail(ErrorCode::InvalidArgument, name, " must be a string, got ", info.Length() <= index ? "nothing" : js_type(info[index]));
  }
  return info[index].As<Napi::String>().Utf8Value();
}

torch::Tensor tensor_from_js(Napi::Value value, const std::string& name) {
  Options o(value, name);
  const Napi::Value data = o.value("data");
  if (!data.IsTypedArray()) fail(ErrorCode::InvalidArgument, name, ".data must be a typed array, got ", js_type(data));
  const std::vector<int64_t> shape = o.integers("shape");
  const Napi::TypedArray array = data.As<Napi::TypedArray>();
  torch::ScalarType dtype;
  switch (array.TypedArrayType()) {
    case napi_float32_array:
      dtype = torch::kFloat;
      break;
    case napi_float64_array:
      dtype = torch::kDouble;
      break;
    case napi_int32_array:
      dtype = torch::kInt;
      break;
    case napi_uint8_array:
      dtype = torch::kByte;
      break;
    default:
      fail(ErrorCode::InvalidArgument, name, ".data must be a Float32Array, Float64Array, Int32Array or Uint8Array");
  }
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(ErrorCode::Shape, name, ".shape has a negative dimension: ", d);
    numel *= d;
  }
  if (numel != static_cast<int64_t>(array.ElementLength())) {
    fail(ErrorCode::Shape, name, ": shape ", c10::IntArrayRef(shape), " needs ", numel, " elements, data has ",
         array.ElementLength());
  }
  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  const auto* bytes = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  std::memcpy(out.data_ptr(), bytes, out.nbytes());
  return out;
}

Napi::Object tensor_to_js(Napi::Env env, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().cpu();
  switch (t.scalar_type()) {
    case torch::kFloat:
    case torch::kDouble:
    case torch::kInt:
    case torch::kByte:
      break;
    case torch::kLong:
    case torch::kShort:
    case torch::kBool:
    case torch::kChar:
      t = t.to(torch::kInt);
      break;
    default:
      t = t.to(torch::kFloat);
  }
  t = t.contiguous();
  const size_t n = static_cast<size_t>(t.numel());
  Napi::Value data;
  switch (t.scalar_type()) {
    case torch::kDouble: {
      auto a = Napi::Float64Array::New(env, n);
      std::memcpy(a.Data(), t.data_ptr(), t.nbytes());
      data = a;
      break;
    }
    case torch::kInt: {
      auto a = Napi::Int32Array::New(env, n);
      std::memcpy(a.Data(), t.data_ptr(), t.nbytes());
      data = a;
      break;
    }
    case torch::kByte: {
      auto a = Napi::Uint8Array::New(env, n);
      std::memcpy(a.Data(), t.data_ptr(), t.nbytes());
      data = a;
      break;
    }
    default: {
      auto a = Napi::Float32Array::New(env, n);
      std::memcpy(a.Data(), t.data_ptr(), t.nbytes());
      data = a;
    }
  }
  Napi::Array shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); ++i)
    shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", data);
  out.Set("shape", shape);
  return out;
}

Napi::Object string_map_to_js(Napi::Env env, const std::map<std::string, std::string>& map) {
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [k, v] : map) out.Set(k, Napi::String::New(env, v));
  return out;
}

std::map<std::string, std::string> string_map_from_js(Napi::Value value, const std::string& name) {
  std::map<std::string, std::string> out;
  if (value.IsUndefined() || value.IsNull()) return out;
  if (!value.IsObject()) fail(ErrorCode::InvalidArgument, name, " must be an object of strings");
  const Napi::Object o = value.As<Napi::Object>();
  const Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    const Napi::Value v = o.Get(key);
    if (!v.IsString()) fail(ErrorCode::InvalidArgument, name, ".", key, " must be a string, got ", js_type(v));
    out.emplace(key, v.As<Napi::String>().Utf8Value());
  }
  return out;
}

namespace {
constexpr int kMaxJsonDepth = 32;

nlohmann::json json_from_js_at(Napi::Value value, const std::string& name, int depth) {
  if (depth > kMaxJsonDepth) fail(ErrorCode::InvalidArgument, name, " is nested deeper than ", kMaxJsonDepth, " levels");
  if (value.IsUndefined() || value.IsNull()) return nullptr;
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
  if (value.IsNumber()) {
    // Integral numbers stay integers, so JSON written from them reads as JSON.stringify would write it.
    const double number = value.As<Napi::Number>().DoubleValue();
    if (const std::optional<int64_t> integer = safe_integer(number)) return *integer;
    return number;
  }
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsArray()) {
    const Napi::Array array = value.As<Napi::Array>();
    nlohmann::json out = nlohmann::json::array();
    for (uint32_t i = 0; i < array.Length(); ++i)
      out.push_back(json_from_js_at(array.Get(i), name + "[" + std::to_string(i) + "]", depth + 1));
    return out;
  }
  if (value.IsFunction() || value.IsTypedArray() || value.IsArrayBuffer() || !value.IsObject()) {
    fail(ErrorCode::InvalidArgument, name, " must hold plain values (numbers, strings, booleans, arrays, objects), got ",
         js_type(value));
  }
  const Napi::Object object = value.As<Napi::Object>();
  const Napi::Array keys = object.GetPropertyNames();
  nlohmann::json out = nlohmann::json::object();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString().Utf8Value();
    const Napi::Value item = object.Get(key);
    if (item.IsUndefined()) continue;
    out[key] = json_from_js_at(item, name + "." + key, depth + 1);
  }
  return out;
}
}  // namespace

nlohmann::json json_from_js(Napi::Value value, const std::string& name) { return json_from_js_at(value, name, 0); }

Napi::Value json_to_js(Napi::Env env, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::boolean:
      return Napi::Boolean::New(env, value.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return Napi::Number::New(env, value.get<double>());
    case nlohmann::json::value_t::string:
      return Napi::String::New(env, value.get<std::string>());
    case nlohmann::json::value_t::array: {
      Napi::Array out = Napi::Array::New(env, value.size());
      for (size_t i = 0; i < value.size(); ++i) out.Set(static_cast<uint32_t>(i), json_to_js(env, value[i]));
      return out;
    }
    case nlohmann::json::value_t::object: {
      Napi::Object out = Napi::Object::New(env);
      for (const auto& [key, item] : value.items()) out.Set(key, json_to_js(env, item));
      return out;
    }
    default:
      return env.Null();
  }
}

}  // namespace distillery::addon

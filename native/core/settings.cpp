#include "core/settings.h"

#include <cmath>

#include "core/error.h"
#include "core/safe_integer.h"

namespace distillery {

namespace {
std::optional<int64_t> json_integer(const nlohmann::json& v) {
  return v.is_number() ? safe_integer(v.get<double>()) : std::nullopt;
}
}  // namespace

Settings::Settings(nlohmann::json value, std::string context) : value_(std::move(value)), context_(std::move(context)) {
  if (value_.is_null()) value_ = nlohmann::json::object();
  if (!value_.is_object()) fail(ErrorCode::InvalidArgument, context_, " must be an object, got ", value_.type_name());
}

std::string Settings::name(const char* key) const { return context_.empty() ? key : context_ + "." + key; }

const nlohmann::json* Settings::find(const char* key) const {
  auto it = value_.find(key);
  if (it == value_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Settings::has(const char* key) const { return find(key) != nullptr; }

double Settings::number(const char* key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(ErrorCode::InvalidArgument, name(key), " is required");
  if (!v->is_number()) fail(ErrorCode::InvalidArgument, name(key), " must be a number, got ", v->type_name());
  const double out = v->get<double>();
  if (!std::isfinite(out)) fail(ErrorCode::InvalidArgument, name(key), " must be finite, got ", out);
  return out;
}

double Settings::number(const char* key, double fallback) const { return has(key) ? number(key) : fallback; }

int64_t Settings::integer(const char* key, int64_t fallback) const {
  if (!has(key)) return fallback;
  const double value = number(key);
  const std::optional<int64_t> out = json_integer(*find(key));
  if (!out) fail(ErrorCode::InvalidArgument, name(key), " must be an integer, got ", value);
  return *out;
}

bool Settings::boolean(const char* key, bool fallback) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) fail(ErrorCode::InvalidArgument, name(key), " must be true or false, got ", v->type_name());
  return v->get<bool>();
}

std::string Settings::string(const char* key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(ErrorCode::InvalidArgument, name(key), " is required");
  if (!v->is_string()) fail(ErrorCode::InvalidArgument, name(key), " must be a string, got ", v->type_name());
  return v->get<std::string>();
}

std::string Settings::string(const char* key, const std::string& fallback) const { return has(key) ? string(key) : fallback; }

std::vector<int64_t> Settings::integers(const char* key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(ErrorCode::InvalidArgument, name(key), " is required");
  if (!v->is_array()) fail(ErrorCode::InvalidArgument, name(key), " must be an array of integers, got ", v->type_name());
  std::vector<int64_t> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const std::optional<int64_t> value = json_integer((*v)[i]);
    if (!value) fail(ErrorCode::InvalidArgument, name(key), "[", i, "] must be an integer");
    out.push_back(*value);
  }
  return out;
}

std::vector<int64_t> Settings::integers(const char* key, const std::vector<int64_t>& fallback) const {
  return has(key) ? integers(key) : fallback;
}

Settings Settings::object(const char* key) const {
  const nlohmann::json* v = find(key);
  return Settings(v == nullptr ? nlohmann::json::object() : *v, name(key));
}

std::vector<Settings> Settings::objects(const char* key) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return {};
  if (!v->is_array()) fail(ErrorCode::InvalidArgument, name(key), " must be an array, got ", v->type_name());
  std::vector<Settings> out;
  for (size_t i = 0; i < v->size(); ++i) out.emplace_back((*v)[i], name(key) + "[" + std::to_string(i) + "]");
  return out;
}

}  // namespace distillery

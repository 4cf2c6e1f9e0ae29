#pragma once
// Typed reading of a method's settings (a JSON object the addon builds from a plain JS object), so
// objectives never see Node types; every type error names `context.key`.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace distillery {

class Settings {
 public:
  /** Settings of `value`, which must be an object or null (no settings); errors name `context`. */
  Settings(nlohmann::json value, std::string context);

  bool has(const char* key) const;
  double number(const char* key, double fallback) const;
  double number(const char* key) const;
  int64_t integer(const char* key, int64_t fallback) const;
  bool boolean(const char* key, bool fallback) const;
  std::string string(const char* key, const std::string& fallback) const;
  std::string string(const char* key) const;
  std::vector<int64_t> integers(const char* key) const;
  std::vector<int64_t> integers(const char* key, const std::vector<int64_t>& fallback) const;
  /** The object at `key` (empty settings when absent). */
  Settings object(const char* key) const;
  /** The elements of the array at `key`, each as settings named `key[i]`. */
  std::vector<Settings> objects(const char* key) const;
  const nlohmann::json& json() const { return value_; }
  const std::string& context() const { return context_; }

 private:
  const nlohmann::json* find(const char* key) const;
  std::string name(const char* key) const;
  nlohmann::json value_;
  std::string context_;
};

}  // namespace distillery

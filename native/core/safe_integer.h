#pragma once
// JavaScript's safe integers (|n| <= 2^53 - 1): exact as doubles and within int64_t, so a number
// from JS or JSON becomes an integer without rounding or an out-of-range (undefined) conversion.
#include <cmath>
#include <cstdint>
#include <optional>

namespace distillery {

inline constexpr double kMaxSafeInteger = 9007199254740991.0;

/** `d` as an integer when it is a finite, integral, safe one; nullopt otherwise. */
inline std::optional<int64_t> safe_integer(double d) {
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > kMaxSafeInteger) return std::nullopt;
  return static_cast<int64_t>(d);
}

}  // namespace distillery

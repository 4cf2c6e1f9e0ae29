#include "objectives/common.h"

#include "core/error.h"

namespace distillery::objectives {

void require_models(const train::ObjectiveSetup& setup, const std::string& objective, size_t min, size_t max,
                    const std::string& role) {
  const size_t n = setup.models.size();
  if (n >= min && n <= max) return;
  if (max == 0) fail(ErrorCode::InvalidArgument, "the ", objective, " objective reads no ", role, ", got ", n);
  if (min == max)
    fail(ErrorCode::InvalidArgument, "the ", objective, " objective needs exactly ", min, " ", role, "(s), got ", n);
  fail(ErrorCode::InvalidArgument, "the ", objective, " objective needs at least ", min, " ", role, "(s), got ", n);
}

}  // namespace distillery::objectives

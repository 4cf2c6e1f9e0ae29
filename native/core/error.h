#pragma once
// The one exception type of distillery's C++ core. The addon turns it into a JS DistilleryError
// whose `code` is stable (documented in docs/errors.md) and whose message names the bad input.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace distillery {

enum class ErrorCode {
  InvalidArgument,  // E_ARGUMENT: a value out of range, an unknown name
  Shape,            // E_SHAPE: a tensor of the wrong shape or dtype
  FileNotFound,     // E_FILE_NOT_FOUND
  CorruptFile,      // E_CORRUPT_FILE: truncated or malformed input, with path and byte offset
  Io,               // E_IO: a read or write that failed
  Weights,          // E_WEIGHTS: missing, unexpected or mis-shaped parameters when loading
  NonFinite,        // E_NAN_LOSS: a loss that is NaN or infinite
  Device,           // E_DEVICE: an unknown or unavailable device
  Disposed,         // E_DISPOSED: a handle used after dispose()
  Distributed,      // E_DISTRIBUTED: rendezvous failed, a collective failed, or a rank left
  Limit,            // E_LIMIT: an input over one of the limits of core/limits.h
  Torch,            // E_TORCH: any other LibTorch error, message kept
};

/** Stable string form of an ErrorCode, as seen from JavaScript. */
const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

/** Builds a message from streamable parts: fail(ErrorCode::Shape, "expected ", a, " got ", b). */
template <typename... Parts>
[[noreturn]] void fail(ErrorCode code, Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  throw Error(code, out.str());
}

}  // namespace distillery

#include "core/error.h"

namespace distillery {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "E_ARGUMENT";
    case ErrorCode::Shape:
      return "E_SHAPE";
    case ErrorCode::FileNotFound:
      return "E_FILE_NOT_FOUND";
    case ErrorCode::CorruptFile:
      return "E_CORRUPT_FILE";
    case ErrorCode::Io:
      return "E_IO";
    case ErrorCode::Weights:
      return "E_WEIGHTS";
    case ErrorCode::NonFinite:
      return "E_NAN_LOSS";
    case ErrorCode::Device:
      return "E_DEVICE";
    case ErrorCode::Disposed:
      return "E_DISPOSED";
    case ErrorCode::Distributed:
      return "E_DISTRIBUTED";
    case ErrorCode::Limit:
      return "E_LIMIT";
    case ErrorCode::Torch:
      return "E_TORCH";
  }
  return "E_TORCH";
}

}  // namespace distillery

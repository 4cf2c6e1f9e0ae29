#pragma once
// Weights files in the Hugging Face safetensors format, so checkpoints move freely between
// distillery and PyTorch (safetensors.torch.load_file / save_file) in both directions.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
// then the tensor bytes, offsets relative to the end of the header.
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace distillery::io {

/** Named tensors in a meaningful order (a module's parameter order, a file's storage order). */
using TensorList = std::vector<std::pair<std::string, torch::Tensor>>;
/** Free-form string pairs stored under "__metadata__". */
using Metadata = std::map<std::string, std::string>;

/**
 * Writes `tensors` to `path` atomically (see write_file_atomic). Tensors may live on any device
 * and be non-contiguous; dtypes F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL are stored
 * (others: E_SHAPE). Duplicate or reserved ("__metadata__") names: E_ARGUMENT.
 * The bytes match the reference writer's: tensors ordered by descending dtype size then by name,
 * compact JSON in that order after "__metadata__", header padded with spaces to a multiple of 8.
 */
void write_safetensors(const std::string& path, const TensorList& tensors, const Metadata& metadata = {});

struct SafetensorsFile {
  TensorList tensors;  // in storage order; each owns its memory, on CPU
  Metadata metadata;
};

/**
 * Reads and fully validates `path`. E_FILE_NOT_FOUND when it is missing; E_CORRUPT_FILE naming the
 * file, the problem and its byte offset for anything the reference reader rejects (a truncated
 * file or header, invalid JSON, unknown dtype, offsets that do not tile the data exactly, a shape
 * that disagrees with its byte size, a header that is not a JSON object of tensor entries).
 */
SafetensorsFile read_safetensors(const std::string& path);

/** The "__metadata__" of `path`, reading and validating only its header. Errors as read_safetensors. */
Metadata read_safetensors_metadata(const std::string& path);

}  // namespace distillery::io

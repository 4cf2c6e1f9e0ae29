#pragma once
// Every resource bound on outside input, in one table: each limit has a name (as JavaScript and the
// config's `limits:` section spell it), a default and what it bounds. Values are process-wide and
// may be changed at any time (loader threads read them as they work); a value over its limit is
// E_LIMIT, naming the input, the value, the limit and how to raise it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace distillery {

enum class Limit {
  ImagePixels,     // decoded pixels of one image (width x height)
  ImageFileBytes,  // bytes of one image file (read whole into memory)
  JpegScans,       // scans of one progressive JPEG
  ImageSide,       // the side of a transform's output image (crop size, resize)
  DatasetBytes,    // bytes of an in-memory dataset (IDX, CIFAR) as its header declares them
  DatasetFiles,    // files in one image folder or list file
  Classes,         // classes of a dataset or a model
  Parameters,      // parameters of a network, estimated before it is built
  Threads,         // intra-op threads and loader workers
  Prefetch,        // batches a loader builds ahead
  BatchSize,       // samples in one batch
  kCount,
};

struct LimitInfo {
  Limit limit;
  const char* name;  // e.g. "maxImagePixels"
  int64_t default_value;
  const char* what;  // e.g. "decoded pixels per image"
};

/** The table, in Limit order. */
const LimitInfo* limit_table();
/** The limit named `name` (as in LimitInfo::name), if any. */
std::optional<Limit> find_limit(std::string_view name);
int64_t limit(Limit which);
/** Sets a limit; E_ARGUMENT unless value >= 1. */
void set_limit(Limit which, int64_t value);
/** E_LIMIT when value > the limit: "<subject>: <value> <what> exceeds the limit of <limit> (limits.<name> ...)". */
void check_limit(Limit which, int64_t value, const std::string& subject);

}  // namespace distillery

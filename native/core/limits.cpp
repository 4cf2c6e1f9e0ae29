#include "core/limits.h"

#include <array>
#include <atomic>

#include "core/error.h"

namespace distillery {

namespace {
constexpr auto kCount = static_cast<size_t>(Limit::kCount);

// Pillow refuses images over twice its MAX_IMAGE_PIXELS (DecompressionBombError); ImageNet's
// largest image is under 10 MB and 90 M pixels. The class bound covers ImageNet-21k with room to
// spare, the parameter bound any ResNet (ResNet-152: 60 M) by far, threads a two-socket server.
constexpr std::array<LimitInfo, kCount> kTable{{
    {Limit::ImagePixels, "maxImagePixels", 178956970, "decoded pixels per image"},
    {Limit::ImageFileBytes, "maxImageFileBytes", int64_t{256} << 20, "bytes per image file"},
    {Limit::JpegScans, "maxJpegScans", 500, "scans per progressive JPEG"},
    {Limit::ImageSide, "maxImageSide", 4096, "pixels on a side of the transformed image"},
    {Limit::DatasetBytes, "maxDatasetBytes", int64_t{16} << 30, "bytes of in-memory dataset"},
    {Limit::DatasetFiles, "maxDatasetFiles", 50000000, "files per dataset"},
    {Limit::Classes, "maxClasses", 100000, "classes"},
    {Limit::Parameters, "maxParameters", 1000000000, "network parameters"},
    {Limit::Threads, "maxThreads", 256, "threads"},
    {Limit::Prefetch, "maxPrefetch", 64, "batches built ahead"},
    {Limit::BatchSize, "maxBatchSize", 65536, "samples per batch"},
}};

struct Values {
  Values() {
    for (size_t i = 0; i < kCount; ++i) at[i].store(kTable[i].default_value);
  }
  std::array<std::atomic<int64_t>, kCount> at;
};

std::array<std::atomic<int64_t>, kCount>& values() {
  static Values v;
  return v.at;
}

size_t index_of(Limit which) { return static_cast<size_t>(which); }
}  // namespace

const LimitInfo* limit_table() { return kTable.data(); }

std::optional<Limit> find_limit(std::string_view name) {
  for (const LimitInfo& info : kTable) {
    if (name == info.name) return info.limit;
  }
  return std::nullopt;
}

int64_t limit(Limit which) { return values()[index_of(which)].load(std::memory_order_relaxed); }

void set_limit(Limit which, int64_t value) {
  const LimitInfo& info = kTable[index_of(which)];
  if (value < 1) fail(ErrorCode::InvalidArgument, "limits.", info.name, " must be a positive integer, got ", value);
  values()[index_of(which)].store(value, std::memory_order_relaxed);
}

void check_limit(Limit which, int64_t value, const std::string& subject) {
  const int64_t bound = limit(which);
  if (value <= bound) return;
  const LimitInfo& info = kTable[index_of(which)];
  fail(ErrorCode::Limit, subject, ": ", value, " ", info.what, " exceeds the limit of ", bound, " (limits.", info.name,
       "; if the input is trusted, raise it with --limit ", info.name, "=N or `limits: {", info.name, ": N}` in the config)");
}

}  // namespace distillery

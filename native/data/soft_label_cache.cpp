#include "data/soft_label_cache.h"

#include <c10/util/Half.h>

#include <cstring>

#include "core/error.h"

namespace distillery::data {

namespace {
constexpr char kMagic[8] = {'D', 'S', 'T', 'L', 'S', 'O', 'F', 'T'};

int64_t positive(const nlohmann::json& header, const char* key, const std::string& path) {
  if (!header.contains(key) || !header[key].is_number_integer() || header[key].get<int64_t>() < 1) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": header field '", key, "' is missing or not a positive integer");
  }
  return header[key].get<int64_t>();
}
}  // namespace

int64_t soft_record_bytes(int64_t top_k, int64_t logits, int64_t teachers) {
  return 5 * 4 + top_k * 4 + logits * 2 + teachers * top_k * 4;
}

SoftLabelCache::SoftLabelCache(const std::string& path) : path_(path), file_(io::open_readable(path)) {
  if (file_.size < 16)
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, " is too short to hold a header (", file_.size, " bytes)");
  map_ = std::make_unique<io::MappedFile>(file_, path);
  const unsigned char* bytes = map_->data();
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0) {
    fail(ErrorCode::CorruptFile, path,
         " is not a distillery soft-label cache (no DSTLSOFT signature); write one with `distillery cache-teachers`");
  }
  uint64_t length = 0;
  std::memcpy(&length, bytes + 8, sizeof(length));
  if (length > file_.size - 16)
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": header length ", length, " runs past the end of the file");
  try {
    header_ = nlohmann::json::parse(bytes + 16, bytes + 16 + length);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": the header is not valid JSON (", e.what(), ")");
  }
  samples_ = positive(header_, "samples", path);
  crops_ = positive(header_, "crops", path);
  top_k_ = positive(header_, "topK", path);
  num_classes_ = positive(header_, "numClasses", path);
  logits_ = header_.value("logits", false);
  if (header_.value("perTeacher", false)) {
    if (!header_.contains("teachers") || !header_["teachers"].is_array() || header_["teachers"].empty()) {
      fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": perTeacher is set but the header lists no teachers");
    }
    teacher_records_ = static_cast<int64_t>(header_["teachers"].size());
  }
  record_bytes_ = soft_record_bytes(top_k_, logits_ ? num_classes_ : 0, teacher_records_);
  data_offset_ = static_cast<int64_t>((16 + length + 7) / 8 * 8);
  const int64_t expected = data_offset_ + samples_ * crops_ * record_bytes_;
  if (static_cast<int64_t>(file_.size) != expected) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, " holds ", file_.size, " bytes, its header promises ", expected, " (",
         samples_, " samples x ", crops_, " crops); it is truncated or was not finished");
  }
}

CachedCrop SoftLabelCache::read(int64_t index, int64_t k, int64_t* classes, float* probabilities, float* logits) const {
  if (index < 0 || index >= samples_ || k < 0 || k >= crops_) {
    fail(ErrorCode::InvalidArgument, "soft-label cache ", path_, ": no record for sample ", index, ", crop ", k);
  }
  const unsigned char* p = map_->data() + data_offset_ + (index * crops_ + k) * record_bytes_;
  int32_t box[5];
  std::memcpy(box, p, sizeof(box));
  const unsigned char* labels = p + sizeof(box);
  for (int64_t j = 0; classes != nullptr && probabilities != nullptr && j < top_k_; ++j) {
    uint16_t c = 0, h = 0;
    std::memcpy(&c, labels + 2 * j, 2);
    std::memcpy(&h, labels + 2 * top_k_ + 2 * j, 2);
    classes[j] = c;
    probabilities[j] = static_cast<float>(c10::Half(h, c10::Half::from_bits()));
  }
  const unsigned char* stored = labels + 4 * top_k_;
  for (int64_t j = 0; logits != nullptr && logits_ && j < num_classes_; ++j) {
    uint16_t h = 0;
    std::memcpy(&h, stored + 2 * j, 2);
    logits[j] = static_cast<float>(c10::Half(h, c10::Half::from_bits()));
  }
  return {box[0], box[1], box[2], box[3], box[4] != 0};
}

}  // namespace distillery::data

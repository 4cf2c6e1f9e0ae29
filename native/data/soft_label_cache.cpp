#include "data/soft_label_cache.h"

#include <c10/util/Half.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"

namespace distillery::data {

namespace {
constexpr char kMagic[8] = {'D', 'S', 'T', 'L', 'S', 'O', 'F', 'T'};
constexpr int64_t kPrefixBytes = 16;  // signature and JSON length
constexpr int64_t kBoxBytes = 5 * 4;

int64_t positive(const nlohmann::json& header, const char* key, const std::string& path) {
  if (!header.contains(key) || !header[key].is_number_integer() || header[key].get<int64_t>() < 1) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": header field '", key, "' is missing or not a positive integer");
  }
  return header[key].get<int64_t>();
}

/** The bytes a header takes at the start of the file: signature, length, JSON, padding to 8. */
std::string encode_header(const nlohmann::json& header) {
  const std::string json = header.dump();
  std::string out(kMagic, sizeof(kMagic));
  const uint64_t length = json.size();
  out.append(reinterpret_cast<const char*>(&length), sizeof(length));
  out += json;
  out.append((8 - out.size() % 8) % 8, '\0');
  return out;
}

uint16_t half_bits(float value) { return c10::Half(value).x; }
float from_half_bits(uint16_t bits) { return static_cast<float>(c10::Half(bits, c10::Half::from_bits())); }

void put_u16(unsigned char* at, uint16_t value) { std::memcpy(at, &value, 2); }
uint16_t get_u16(const unsigned char* at) {
  uint16_t value = 0;
  std::memcpy(&value, at, 2);
  return value;
}

void pwrite_all(int fd, const std::string& path, const void* data, size_t size, int64_t offset) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, bytes, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorCode::Io, "cannot write soft-label cache ", path, ": ", std::strerror(n < 0 ? errno : ENOSPC));
    bytes += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
}

// A boolean field that may be absent (false); anything but true or false is a damaged header.
bool flag(const nlohmann::json& header, const char* key, const std::string& path) {
  const auto it = header.find(key);
  if (it == header.end()) return false;
  if (!it->is_boolean())
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": header field '", key, "' must be true or false");
  return it->get<bool>();
}

void check_rows(const torch::Tensor& t, const char* name, std::initializer_list<int64_t> shape) {
  if (!t.defined() || t.sizes() != c10::IntArrayRef(shape)) {
    fail(ErrorCode::Shape, "soft-label rows: ", name, " must be ", c10::IntArrayRef(shape), ", got ",
         t.defined() ? t.sizes() : c10::IntArrayRef{});
  }
}
}  // namespace

SoftLabelLayout SoftLabelLayout::of(const nlohmann::json& header, int64_t header_bytes, const std::string& path) {
  if (!header.is_object()) fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": the header is not a JSON object");
  SoftLabelLayout l;
  l.samples = positive(header, "samples", path);
  l.crops = positive(header, "crops", path);
  l.top_k = positive(header, "topK", path);
  l.num_classes = positive(header, "numClasses", path);
  if (l.top_k > l.num_classes || l.num_classes > std::numeric_limits<uint16_t>::max() + 1) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": topK ", l.top_k, " and numClasses ", l.num_classes,
         " do not fit the format (topK <= numClasses <= 65536)");
  }
  l.logits = flag(header, "logits", path);
  if (flag(header, "perTeacher", path)) {
    if (!header.contains("teachers") || !header["teachers"].is_array() || header["teachers"].empty()) {
      fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": perTeacher is set but the header lists no teachers");
    }
    l.teachers = static_cast<int64_t>(header["teachers"].size());
  }
  l.record_bytes = kBoxBytes + 4 * l.top_k + (l.logits ? 2 * l.num_classes : 0) + 4 * l.top_k * l.teachers;
  l.data_offset = (header_bytes + 7) / 8 * 8;
  constexpr int64_t kMaxBytes = int64_t{1} << 50;  // a petabyte: far past any dataset, short of overflow
  if (l.samples > kMaxBytes / l.crops / l.record_bytes) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": ", l.samples, " samples x ", l.crops, " crops of ", l.record_bytes,
         " bytes is larger than any file this format allows");
  }
  return l;
}

SoftLabelCache::SoftLabelCache(const std::string& path) : path_(path), file_(io::open_readable(path)) {
  if (file_.size < kPrefixBytes)
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, " is too short to hold a header (", file_.size, " bytes)");
  map_ = std::make_unique<io::MappedFile>(file_, path);
  const unsigned char* bytes = map_->data();
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0) {
    fail(ErrorCode::CorruptFile, path,
         " is not a distillery soft-label cache (no DSTLSOFT signature); write one with `distillery cache-teachers`");
  }
  uint64_t length = 0;
  std::memcpy(&length, bytes + sizeof(kMagic), sizeof(length));
  if (length > file_.size - kPrefixBytes)
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": header length ", length, " runs past the end of the file");
  try {
    header_ = nlohmann::json::parse(bytes + kPrefixBytes, bytes + kPrefixBytes + length);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, ": the header is not valid JSON (", e.what(), ")");
  }
  layout_ = SoftLabelLayout::of(header_, kPrefixBytes + static_cast<int64_t>(length), path);
  if (static_cast<int64_t>(file_.size) != layout_.file_bytes()) {
    fail(ErrorCode::CorruptFile, "soft-label cache ", path, " holds ", file_.size, " bytes, its header promises ",
         layout_.file_bytes(), " (", layout_.samples, " samples x ", layout_.crops,
         " crops); it is truncated or was not finished");
  }
}

CachedCrop SoftLabelCache::read(int64_t index, int64_t k, int64_t* classes, float* probabilities, float* logits) const {
  if (index < 0 || index >= layout_.samples || k < 0 || k >= layout_.crops) {
    fail(ErrorCode::InvalidArgument, "soft-label cache ", path_, ": no record for sample ", index, ", crop ", k);
  }
  const unsigned char* p = map_->data() + layout_.offset(index, k);
  int32_t box[5];
  std::memcpy(box, p, sizeof(box));
  const int64_t top_k = layout_.top_k;
  const unsigned char* labels = p + kBoxBytes;
  for (int64_t j = 0; classes != nullptr && probabilities != nullptr && j < top_k; ++j) {
    classes[j] = get_u16(labels + 2 * j);
    probabilities[j] = from_half_bits(get_u16(labels + 2 * top_k + 2 * j));
  }
  const unsigned char* stored = labels + 4 * top_k;
  for (int64_t j = 0; logits != nullptr && layout_.logits && j < layout_.num_classes; ++j) {
    logits[j] = from_half_bits(get_u16(stored + 2 * j));
  }
  return {box[0], box[1], box[2], box[3], box[4] != 0};
}

SoftLabelCacheWriter::SoftLabelCacheWriter(std::string path, const nlohmann::json& header, bool resume) : path_(std::move(path)) {
  const std::string head = encode_header(header);
  layout_ = SoftLabelLayout::of(header, static_cast<int64_t>(head.size()), path_);
  if (resume) {
    io::UniqueFd existing(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    struct stat info {};
    if (existing.get() >= 0 && ::fstat(existing.get(), &info) == 0 && S_ISREG(info.st_mode) &&
        info.st_size == layout_.file_bytes()) {
      std::string stored(head.size(), '\0');
      if (::pread(existing.get(), stored.data(), stored.size(), 0) == static_cast<ssize_t>(stored.size()) && stored == head) {
        fd_ = std::move(existing);
        resumed_ = true;
        return;
      }
    }
  }
  fd_ = io::UniqueFd(::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd_.get() < 0) fail(ErrorCode::Io, "cannot create soft-label cache ", path_, ": ", std::strerror(errno));
  pwrite_all(fd_.get(), path_, head.data(), head.size(), 0);
  if (::ftruncate(fd_.get(), layout_.file_bytes()) != 0) {
    fail(ErrorCode::Io, "cannot size soft-label cache ", path_, " to ", layout_.file_bytes(), " bytes: ", std::strerror(errno));
  }
}

void SoftLabelCacheWriter::write(int64_t pass, const SoftLabelRows& rows) {
  const SoftLabelLayout& l = layout_;
  if (pass < 0 || pass >= l.crops) fail(ErrorCode::InvalidArgument, "soft-label cache ", path_, ": no crop pass ", pass);
  const int64_t batch = rows.indices.defined() ? rows.indices.numel() : 0;
  check_rows(rows.indices, "indices", {batch});
  check_rows(rows.crops, "crops", {batch, 5});
  check_rows(rows.classes, "classes", {batch, l.top_k});
  check_rows(rows.values, "values", {batch, l.top_k});
  if (l.logits) check_rows(rows.logits, "logits", {batch, l.num_classes});
  if (l.teachers > 0) {
    check_rows(rows.teacher_classes, "teacher classes", {l.teachers, batch, l.top_k});
    check_rows(rows.teacher_values, "teacher values", {l.teachers, batch, l.top_k});
  }
  const auto host = [](const torch::Tensor& t, torch::ScalarType type) { return t.to(torch::kCPU, type).contiguous(); };
  const torch::Tensor indices = host(rows.indices, torch::kLong), crops = host(rows.crops, torch::kInt);
  const torch::Tensor classes = host(rows.classes, torch::kLong), values = host(rows.values, torch::kFloat);
  const torch::Tensor logits = l.logits ? host(rows.logits, torch::kFloat) : torch::Tensor();
  const torch::Tensor teacher_classes = l.teachers > 0 ? host(rows.teacher_classes, torch::kLong) : torch::Tensor();
  const torch::Tensor teacher_values = l.teachers > 0 ? host(rows.teacher_values, torch::kFloat) : torch::Tensor();

  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_.get() < 0) fail(ErrorCode::Disposed, "soft-label cache writer for ", path_, " was closed");
  std::vector<unsigned char> record(static_cast<size_t>(l.record_bytes));
  const auto put_top_k = [&](unsigned char* at, const int64_t* cls, const float* prob) {
    for (int64_t j = 0; j < l.top_k; ++j) {
      if (cls[j] < 0 || cls[j] >= l.num_classes)
        fail(ErrorCode::InvalidArgument, "soft-label rows: class ", cls[j], " out of range");
      put_u16(at + 2 * j, static_cast<uint16_t>(cls[j]));
      put_u16(at + 2 * l.top_k + 2 * j, half_bits(prob[j]));
    }
  };
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t sample = indices.data_ptr<int64_t>()[i];
    if (sample < 0 || sample >= l.samples) {
      fail(ErrorCode::InvalidArgument, "soft-label cache ", path_, ": sample ", sample, " is outside its ", l.samples,
           " samples");
    }
    std::memcpy(record.data(), crops.data_ptr<int32_t>() + 5 * i, kBoxBytes);
    unsigned char* at = record.data() + kBoxBytes;
    put_top_k(at, classes.data_ptr<int64_t>() + i * l.top_k, values.data_ptr<float>() + i * l.top_k);
    at += 4 * l.top_k;
    if (l.logits) {
      const float* row = logits.data_ptr<float>() + i * l.num_classes;
      for (int64_t j = 0; j < l.num_classes; ++j) put_u16(at + 2 * j, half_bits(row[j]));
      at += 2 * l.num_classes;
    }
    for (int64_t t = 0; t < l.teachers; ++t) {
      const int64_t row = (t * batch + i) * l.top_k;
      put_top_k(at, teacher_classes.data_ptr<int64_t>() + row, teacher_values.data_ptr<float>() + row);
      at += 4 * l.top_k;
    }
    pwrite_all(fd_.get(), path_, record.data(), record.size(), l.offset(sample, pass));
  }
}

void SoftLabelCacheWriter::sync() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_.get() < 0) fail(ErrorCode::Disposed, "soft-label cache writer for ", path_, " was closed");
  if (::fsync(fd_.get()) != 0) fail(ErrorCode::Io, "cannot sync soft-label cache ", path_, ": ", std::strerror(errno));
}

void SoftLabelCacheWriter::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_.get() < 0) return;
  const int synced = ::fsync(fd_.get());
  const int error = errno;
  fd_ = io::UniqueFd();
  if (synced != 0) fail(ErrorCode::Io, "cannot sync soft-label cache ", path_, ": ", std::strerror(error));
}

}  // namespace distillery::data

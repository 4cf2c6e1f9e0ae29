#include "data/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/limits.h"

namespace distillery::data {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
// Bounds each read; the buffer grows by doubling from kFirstChunk as data arrives, so a header that
// claims more than the stream holds costs at most twice what is there, not what it claims.
constexpr size_t kChunk = size_t{16} << 20;
constexpr size_t kFirstChunk = size_t{1} << 16;
// Far beyond any real IDX file; keeps the size product from overflowing on a garbage header.
constexpr uint64_t kMaxBytes = uint64_t{1} << 48;
// Deflate cannot shrink data by more than 1032:1, so a gzip file of n bytes holds at most this
// many times n: a header that declares more is a lie, found before anything is decompressed.
constexpr uint64_t kMaxDeflateRatio = 1032;

struct GzClose {
  void operator()(gzFile file) const { gzclose(file); }
};

std::string hex32(uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(8) << std::setfill('0') << value;
  return out.str();
}

// Reads the uncompressed byte stream of one file, tracking the offset every error reports.
// gzread passes a non-gzip file through unchanged, which is what makes ".gz" optional.
class IdxStream {
 public:
  explicit IdxStream(std::string path) : path_(std::move(path)) {
    errno = 0;
    file_.reset(gzopen(path_.c_str(), "rb"));
    if (!file_) {
      if (errno == ENOENT) fail(ErrorCode::FileNotFound, "IDX file not found: ", path_);
      fail(ErrorCode::Io, "cannot open ", path_, ": ", errno ? std::strerror(errno) : "out of memory");
    }
    gzbuffer(file_.get(), 1u << 16);
  }

  uint64_t offset() const { return offset_; }

  /** The most bytes the stream can hold: the file's size, or the deflate bound for a gzip file.
   *  Call after the first read (zlib decides then whether the file is gzip). */
  uint64_t most_bytes() const {
    struct stat info {};
    if (::stat(path_.c_str(), &info) != 0) return kMaxBytes;
    const auto size = static_cast<uint64_t>(info.st_size);
    return gzdirect(file_.get()) != 0 ? size : size * kMaxDeflateRatio;
  }

  /** Reads up to n bytes; fewer only at the end of the stream. Throws on a broken gzip stream. */
  size_t read_some(uint8_t* dst, size_t n) {
    size_t got = 0;
    while (got < n) {
      const auto want = static_cast<unsigned>(std::min(n - got, kChunk));
      const int r = gzread(file_.get(), dst + got, want);
      if (r < 0) stream_error(offset_ + got);
      got += static_cast<size_t>(r);
      if (static_cast<unsigned>(r) < want) break;
    }
    // A short read is either a clean end of stream or a gzip error (truncation shows up as
    // "unexpected end of file" here, with the bytes before it already delivered).
    int errnum = Z_OK;
    gzerror(file_.get(), &errnum);
    if (got < n && errnum != Z_OK) stream_error(offset_ + got);
    offset_ += got;
    return got;
  }

  /** Reads exactly n bytes of `what`, or fails naming the offset and how much was there. */
  void read_exact(uint8_t* dst, size_t n, const char* what) {
    const uint64_t at = offset_;
    const size_t got = read_some(dst, n);
    if (got < n) {
      fail(ErrorCode::CorruptFile, path_, ": truncated: expected ", n, " bytes of ", what, " at offset ", at, ", got ", got);
    }
  }

  uint32_t read_be32(const char* what) {
    uint8_t b[4];
    read_exact(b, 4, what);
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
  }

  /** Fails unless the stream ends here; reading on to the end also makes zlib check the CRC. */
  void expect_end() {
    uint8_t extra;
    if (read_some(&extra, 1) != 0) {
      fail(ErrorCode::CorruptFile, path_, ": unexpected bytes after the data the header declares, at offset ", offset_ - 1);
    }
  }

 private:
  // zlib decompresses ahead in blocks and drops a block that fails, so a data or checksum error
  // is only known to lie at or after the offset reached; a truncated stream keeps every byte.
  [[noreturn]] void stream_error(uint64_t at) {
    int errnum = Z_OK;
    std::string message = gzerror(file_.get(), &errnum);
    if (errnum == Z_ERRNO) fail(ErrorCode::Io, "cannot read ", path_, " at offset ", at, ": ", std::strerror(errno));
    const std::string prefix = path_ + ": ";  // zlib names the file itself
    if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
    if (errnum == Z_BUF_ERROR) {
      fail(ErrorCode::CorruptFile, path_, ": truncated gzip stream (", message, ") at uncompressed offset ", at);
    }
    fail(ErrorCode::CorruptFile, path_, ": corrupt gzip stream (", message, ") at or after uncompressed offset ", at);
  }

  std::string path_;
  std::unique_ptr<gzFile_s, GzClose> file_;
  uint64_t offset_ = 0;
};

std::string locate(const std::filesystem::path& dir, const std::string& base) {
  for (const std::string& name : {base, base + ".gz"}) {
    const std::filesystem::path candidate = dir / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
  }
  return {};
}

std::string dataset_name(const std::filesystem::path& dir) {
  std::filesystem::path p = dir.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "a/b/" normalises to "a/b/", whose filename is empty
  const std::string name = p.filename().string();
  return name.empty() || name == "." ? std::filesystem::absolute(p).filename().string() : name;
}

}  // namespace

torch::Tensor read_idx(const std::string& path, int64_t dims) {
  IdxStream in(path);
  const uint32_t magic = in.read_be32("magic number");
  const uint32_t expected = uint32_t{kUnsignedByte} << 8 | static_cast<uint32_t>(dims);
  if (magic != expected) {
    fail(ErrorCode::CorruptFile, path, ": bad magic number ", hex32(magic), " at offset 0, expected ", hex32(expected),
         " (IDX, unsigned bytes, ", dims, " dimension(s))");
  }
  std::vector<int64_t> sizes;
  uint64_t total = 1;
  for (int64_t d = 0; d < dims; ++d) {
    const uint64_t at = in.offset();
    const uint32_t size = in.read_be32("dimension size");
    if (size == 0 && d > 0) fail(ErrorCode::CorruptFile, path, ": dimension ", d, " is 0 at offset ", at);
    if (size != 0 && total > kMaxBytes / size) {
      fail(ErrorCode::CorruptFile, path, ": dimension size ", size, " at offset ", at, " makes the data larger than 2^48 bytes");
    }
    sizes.push_back(size);
    total *= size;
  }

  const uint64_t data_offset = in.offset();
  if (data_offset + total > in.most_bytes()) {
    fail(ErrorCode::CorruptFile, path, ": truncated or corrupt: the header declares ", total, " bytes of data at offset ",
         data_offset, " (sizes ", torch::IntArrayRef(sizes), "), more than the file can hold (at most ", in.most_bytes(),
         " bytes)");
  }
  check_limit(Limit::DatasetBytes, static_cast<int64_t>(total), path + " (the size its IDX header declares)");
  auto data = std::make_shared<std::vector<uint8_t>>();
  while (data->size() < total) {
    const size_t have = data->size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(total - have, std::min(kChunk, std::max(kFirstChunk, have))));
    data->resize(have + want);
    const size_t got = in.read_some(data->data() + have, want);
    if (got < want) {
      fail(ErrorCode::CorruptFile, path, ": truncated: expected ", total, " bytes of data at offset ", data_offset,
           " (header sizes ", torch::IntArrayRef(sizes), "), got ", have + got);
    }
  }
  in.expect_end();

  if (total == 0) return torch::empty(sizes, torch::kUInt8);
  // The tensor keeps the bytes it was read into: no second copy of a dataset.
  return torch::from_blob(
      data->data(), sizes, [data](void*) {}, torch::kUInt8);
}

ImageDataset load_idx_split(const std::string& dir, const std::string& split, int64_t num_classes) {
  if (split != "train" && split != "test") {
    fail(ErrorCode::InvalidArgument, "unknown IDX split '", split, "': use \"train\" or \"test\"");
  }
  if (num_classes < 0) fail(ErrorCode::InvalidArgument, "num_classes must be >= 0 (0 infers it), got ", num_classes);
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string image_base = prefix + "-images-idx3-ubyte";
  const std::string label_base = prefix + "-labels-idx1-ubyte";
  const std::string image_path = locate(dir, image_base);
  const std::string label_path = locate(dir, label_base);
  if (image_path.empty() || label_path.empty()) {
    std::error_code ec;
    const bool both = image_path.empty() && label_path.empty();
    fail(ErrorCode::FileNotFound, "IDX ", split, " split not found in ", dir,
         std::filesystem::is_directory(dir, ec) ? "" : " (no such directory)", ": missing ",
         image_path.empty() ? image_base + "[.gz]" : "", both ? " and " : "", label_path.empty() ? label_base + "[.gz]" : "",
         " (looked for ", image_base, " and ", label_base, ", each with or without .gz)");
  }

  torch::Tensor images = read_idx(image_path, 3);
  torch::Tensor labels = read_idx(label_path, 1);
  if (images.size(0) != labels.size(0)) {
    fail(ErrorCode::CorruptFile, "IDX image/label count mismatch: ", image_path, " declares ", images.size(0),
         " images at offset 4, but ", label_path, " declares ", labels.size(0), " labels at offset 4");
  }

  // Labels start after the 4-byte magic and the single 4-byte count.
  constexpr int64_t kLabelOffset = 8;
  const uint8_t* label_data = labels.data_ptr<uint8_t>();
  const int64_t n = labels.size(0);
  const int64_t max_label = n == 0 ? -1 : *std::max_element(label_data, label_data + n);
  if (num_classes > 0 && max_label >= num_classes) {
    const int64_t i = std::find_if(label_data, label_data + n, [&](uint8_t l) { return l >= num_classes; }) - label_data;
    fail(ErrorCode::CorruptFile, label_path, ": label ", int{label_data[i]}, " at offset ", kLabelOffset + i, " (sample ", i,
         ") is out of range for ", num_classes, " classes");
  }

  ImageDataset out;
  out.name = dataset_name(dir);
  out.images = images.unsqueeze(1);
  out.labels = labels.to(torch::kLong);
  out.num_classes = num_classes > 0 ? num_classes : std::max<int64_t>(max_label + 1, 10);
  return out;
}

}  // namespace distillery::data

#include "io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <set>
#include <string_view>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/posix_file.h"

// Tensor bytes go to and from disk as they lie in memory, and the format fixes little-endian.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; a big-endian host would need byte swapping here"
#endif

namespace distillery::io {

namespace {

constexpr std::uint64_t kLengthBytes = 8;
// The reference reader's limit: a larger length is far likelier garbage than a real header.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct Dtype {
  const char* name;
  torch::ScalarType type;
};

// In the reference's Dtype enum order (increasing alignment), which its writer sorts by, descending.
constexpr std::array<Dtype, 10> kDtypes{{
    {"BOOL", torch::kBool},
    {"U8", torch::kByte},
    {"I8", torch::kChar},
    {"I16", torch::kShort},
    {"F16", torch::kHalf},
    {"BF16", torch::kBFloat16},
    {"I32", torch::kInt},
    {"F32", torch::kFloat},
    {"F64", torch::kDouble},
    {"I64", torch::kLong},
}};

// kDtypes.size() for a type with no safetensors form.
std::size_t dtype_rank(torch::ScalarType type) {
  const auto it = std::find_if(kDtypes.begin(), kDtypes.end(), [&](const Dtype& d) { return d.type == type; });
  return static_cast<std::size_t>(it - kDtypes.begin());
}

const char* supported_dtypes() { return "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL"; }

template <typename... Parts>
[[noreturn]] void corrupt(const std::string& path, Parts&&... parts) {
  fail(ErrorCode::CorruptFile, "corrupt safetensors file '", path, "': ", std::forward<Parts>(parts)...);
}

struct Entry {
  std::string name;
  torch::ScalarType type;
  std::vector<int64_t> shape;
  std::uint64_t begin;
  std::uint64_t end;
};

struct Header {
  std::vector<Entry> entries;  // sorted by offsets
  Metadata metadata;
  std::uint64_t data_start;  // file offset of the byte buffer
};

std::uint64_t decode_length(const unsigned char* bytes) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  return n;
}

// Validates the length prefix against the file before anything reads the header it announces.
std::uint64_t header_length(const std::string& path, const unsigned char* prefix, std::uint64_t file_size) {
  const std::uint64_t n = decode_length(prefix);
  if (n > kMaxHeaderBytes) {
    corrupt(path, "header length ", n, " at byte offset 0 exceeds the ", kMaxHeaderBytes, "-byte limit");
  }
  if (kLengthBytes + n > file_size) {
    corrupt(path, "header length ", n, " at byte offset 0 runs past the end of the file (", file_size, " bytes)");
  }
  return n;
}

void check_minimum_size(const std::string& path, std::uint64_t file_size) {
  if (file_size < kLengthBytes) {
    corrupt(path, "the file is ", file_size, " bytes, shorter than the 8-byte header length");
  }
}

std::uint64_t offset_value(const std::string& path, const std::string& name, const nlohmann::json& value) {
  if (!value.is_number_unsigned()) {
    corrupt(path, "tensor '", name, "' has a data_offsets entry that is not a non-negative integer: ", value.dump());
  }
  return value.get<std::uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& info) {
  if (!info.is_object()) corrupt(path, "header entry '", name, "' is not an object");
  const auto dtype = info.find("dtype");
  const auto shape = info.find("shape");
  const auto offsets = info.find("data_offsets");
  if (dtype == info.end() || shape == info.end() || offsets == info.end()) {
    corrupt(path, "tensor '", name, "' lacks one of dtype, shape, data_offsets");
  }
  if (!dtype->is_string()) corrupt(path, "tensor '", name, "' has a dtype that is not a string");
  const std::string dtype_name = dtype->get<std::string>();
  const auto known = std::find_if(kDtypes.begin(), kDtypes.end(), [&](const Dtype& d) { return dtype_name == d.name; });
  if (known == kDtypes.end()) {
    corrupt(path, "tensor '", name, "' has unknown dtype '", dtype_name, "' (supported: ", supported_dtypes(), ")");
  }
  if (!shape->is_array()) corrupt(path, "tensor '", name, "' has a shape that is not an array");
  Entry entry{name, known->type, {}, 0, 0};
  for (const auto& dim : *shape) {
    if (!dim.is_number_unsigned() || dim.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      corrupt(path, "tensor '", name, "' has an invalid dimension in its shape: ", dim.dump());
    }
    entry.shape.push_back(dim.get<int64_t>());
  }
  if (!offsets->is_array() || offsets->size() != 2) {
    corrupt(path, "tensor '", name, "' has data_offsets that are not a [begin, end] pair");
  }
  entry.begin = offset_value(path, name, (*offsets)[0]);
  entry.end = offset_value(path, name, (*offsets)[1]);
  return entry;
}

Metadata parse_metadata(const std::string& path, const nlohmann::json& value) {
  if (!value.is_object()) corrupt(path, "__metadata__ is not an object");
  Metadata metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) corrupt(path, "__metadata__ value for '", key, "' is not a string");
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

std::uint64_t byte_size(const std::string& path, const Entry& entry) {
  std::uint64_t size = c10::elementSize(entry.type);
  for (const int64_t dim : entry.shape) {
    if (__builtin_mul_overflow(size, static_cast<std::uint64_t>(dim), &size)) {
      corrupt(path, "tensor '", entry.name, "' has a shape whose byte size overflows");
    }
  }
  return size;
}

// The reference reader accepts exactly the headers whose tensors, in offset order, tile the
// buffer with no gap or overlap and end at the end of the file; the same rule here, so that no
// file loads in one and fails in the other, with the reason spelled out.
void check_layout(const std::string& path, const Header& header, std::uint64_t file_size) {
  const std::uint64_t buffer_size = file_size - header.data_start;
  std::uint64_t expected_begin = 0;
  for (const Entry& entry : header.entries) {
    const std::uint64_t at = header.data_start + entry.begin;
    if (entry.end < entry.begin) {
      corrupt(path, "tensor '", entry.name, "' at byte offset ", at, " has data_offsets [", entry.begin, ", ", entry.end,
              "] that end before they begin");
    }
    if (entry.end > buffer_size) {
      corrupt(path, "tensor '", entry.name, "' at byte offset ", at, " has data_offsets [", entry.begin, ", ", entry.end,
              "] outside the ", buffer_size, "-byte data buffer");
    }
    if (entry.begin < expected_begin) {
      corrupt(path, "tensor '", entry.name, "' at byte offset ", at, " overlaps the tensor before it, which ends at byte offset ",
              header.data_start + expected_begin);
    }
    if (entry.begin > expected_begin) {
      corrupt(path, "tensor '", entry.name, "' at byte offset ", at, " leaves ", entry.begin - expected_begin,
              " unaccounted bytes before it (from byte offset ", header.data_start + expected_begin, ")");
    }
    const std::uint64_t size = byte_size(path, entry);
    if (entry.end - entry.begin != size) {
      corrupt(path, "tensor '", entry.name, "' at byte offset ", at, " spans ", entry.end - entry.begin,
              " bytes but its dtype and shape need ", size);
    }
    expected_begin = entry.end;
  }
  if (expected_begin != buffer_size) {
    corrupt(path, "the tensors end at byte offset ", header.data_start + expected_begin, " but the file has ",
            buffer_size - expected_begin, " more bytes");
  }
}

Header parse_header(const std::string& path, std::string_view text, std::uint64_t file_size) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte counts from 1 within the header text.
    corrupt(path, "invalid JSON header at byte offset ", kLengthBytes + (e.byte > 0 ? e.byte - 1 : 0), ": ", e.what());
  } catch (const nlohmann::json::exception& e) {
    // Valid syntax that nlohmann cannot hold, such as a number beyond double's range.
    corrupt(path, "invalid JSON header (byte offset 8): ", e.what());
  }
  if (!json.is_object()) corrupt(path, "the header (byte offset 8) is not a JSON object");
  Header header{{}, {}, kLengthBytes + text.size()};
  for (const auto& [key, value] : json.items()) {
    if (key == "__metadata__") {
      header.metadata = parse_metadata(path, value);
    } else {
      header.entries.push_back(parse_entry(path, key, value));
    }
  }
  std::sort(header.entries.begin(), header.entries.end(),
            [](const Entry& a, const Entry& b) { return std::make_pair(a.begin, a.end) < std::make_pair(b.begin, b.end); });
  check_layout(path, header, file_size);
  return header;
}

std::size_t rank_for_writing(const std::string& name, const torch::Tensor& tensor) {
  const std::size_t rank = dtype_rank(tensor.scalar_type());
  if (rank == kDtypes.size()) {
    fail(ErrorCode::Shape, "cannot save tensor '", name, "': dtype ", tensor.scalar_type(),
         " has no safetensors form here (supported: ", supported_dtypes(), ")");
  }
  return rank;
}

struct Outgoing {
  const std::string* name;
  torch::Tensor data;  // contiguous, on CPU
  std::size_t rank;
};

std::vector<Outgoing> prepare_tensors(const TensorList& tensors) {
  std::vector<Outgoing> out;
  std::set<std::string_view> names;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail(ErrorCode::InvalidArgument, "'__metadata__' is reserved, not a tensor name");
    if (!names.insert(name).second) fail(ErrorCode::InvalidArgument, "tensor name '", name, "' appears twice");
    if (!tensor.defined()) fail(ErrorCode::InvalidArgument, "cannot save tensor '", name, "': it is undefined");
    out.push_back({&name, tensor.detach().to(torch::kCPU).contiguous(), rank_for_writing(name, tensor)});
  }
  // Largest alignment first keeps every tensor's bytes aligned within the 8-aligned buffer.
  std::sort(out.begin(), out.end(),
            [](const Outgoing& a, const Outgoing& b) { return a.rank != b.rank ? a.rank > b.rank : *a.name < *b.name; });
  return out;
}

std::string encode_header(const std::vector<Outgoing>& tensors, const Metadata& metadata) {
  // ordered_json keeps keys in insertion order, which the reference writer fixes as metadata first,
  // then the tensors in storage order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const Outgoing& t : tensors) {
    nlohmann::ordered_json info;
    info["dtype"] = kDtypes[t.rank].name;
    info["shape"] = t.data.sizes().vec();
    info["data_offsets"] = nlohmann::ordered_json::array({offset, offset + t.data.nbytes()});
    header[*t.name] = std::move(info);
    offset += t.data.nbytes();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::ordered_json::type_error& e) {
    fail(ErrorCode::InvalidArgument, "tensor names and metadata must be valid UTF-8: ", e.what());
  }
  // Padding to 8 makes the buffer, and with the sort above every tensor in it, aligned for mmap readers.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

void write_safetensors(const std::string& path, const TensorList& tensors, const Metadata& metadata) {
  const std::vector<Outgoing> outgoing = prepare_tensors(tensors);
  const std::string header = encode_header(outgoing, metadata);
  std::array<unsigned char, kLengthBytes> length{};
  for (std::size_t i = 0; i < length.size(); ++i) length[i] = static_cast<unsigned char>(header.size() >> (8 * i));
  write_file_atomic(path, [&](std::FILE* file) {
    std::fwrite(length.data(), 1, length.size(), file);
    std::fwrite(header.data(), 1, header.size(), file);
    for (const Outgoing& t : outgoing) std::fwrite(t.data.data_ptr(), 1, t.data.nbytes(), file);
  });
}

SafetensorsFile read_safetensors(const std::string& path) {
  const ReadableFile file = open_readable(path);
  check_minimum_size(path, file.size);
  const MappedFile map(file, path);
  const std::uint64_t n = header_length(path, map.data(), file.size);
  const Header header =
      parse_header(path, std::string_view(reinterpret_cast<const char*>(map.data() + kLengthBytes), n), file.size);

  SafetensorsFile result{{}, header.metadata};
  result.tensors.reserve(header.entries.size());
  for (const Entry& entry : header.entries) {
    torch::Tensor tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.type));
    const std::size_t size = static_cast<std::size_t>(entry.end - entry.begin);
    if (size > 0) std::memcpy(tensor.data_ptr(), map.data() + header.data_start + entry.begin, size);
    result.tensors.emplace_back(entry.name, std::move(tensor));
  }
  return result;
}

Metadata read_safetensors_metadata(const std::string& path) {
  const ReadableFile file = open_readable(path);
  check_minimum_size(path, file.size);
  std::array<unsigned char, kLengthBytes> prefix{};
  read_exact(file, path, 0, prefix.data(), prefix.size());
  const std::uint64_t n = header_length(path, prefix.data(), file.size);
  std::string text(static_cast<std::size_t>(n), '\0');
  read_exact(file, path, kLengthBytes, text.data(), text.size());
  return parse_header(path, text, file.size).metadata;
}

}  // namespace distillery::io

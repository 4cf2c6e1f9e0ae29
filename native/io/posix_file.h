#pragma once
// Thin RAII over the POSIX calls the weights I/O needs: descriptors that always close, whole-file
// read-only mappings that always unmap, and reads whose errors name the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace distillery::io {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  /** Gives up ownership, for handing the descriptor to fdopen. */
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

/** A regular file open for reading. */
struct ReadableFile {
  UniqueFd fd;
  std::uint64_t size = 0;
};

/** E_FILE_NOT_FOUND when `path` does not exist, E_IO when it cannot be opened or is no regular file. */
ReadableFile open_readable(const std::string& path);

/** Reads exactly `size` bytes at `offset`; E_IO (naming `path`) on a failed or short read. */
void read_exact(const ReadableFile& file, const std::string& path, std::uint64_t offset, void* out, std::size_t size);

/** A private read-only mapping of a whole file (which must not be empty), unmapped on destruction. */
class MappedFile {
 public:
  MappedFile(const ReadableFile& file, const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const noexcept { return static_cast<const unsigned char*>(address_); }
  std::size_t size() const noexcept { return size_; }

 private:
  void* address_;
  std::size_t size_;
};

}  // namespace distillery::io

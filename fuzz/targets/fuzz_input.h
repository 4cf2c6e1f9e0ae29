#pragma once
// What every harness shares: the fuzzer's bytes as a file (the parsers under test read files, as
// they do in use), and the one rule of the oracle: a parser may reject input only with
// distillery::Error. Anything else that escapes (another exception, a crash, a sanitizer report,
// a leak) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace distillery::fuzz {

/** A private scratch folder for this process, under /dev/shm when there is one. */
inline const std::string& scratch() {
  static const std::string dir = [] {
    std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string pattern = base + "/distillery-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    return pattern;
  }();
  return dir;
}

/** Writes `size` bytes to `name` in the scratch folder and returns its path. */
inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch() + "/" + name;
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, out) != size) std::abort();
  std::fclose(out);
  return path;
}

/** Runs `parse`, swallowing the errors a parser is allowed to raise. */
template <typename Parse>
void expect_clean(Parse&& parse) {
  try {
    parse();
  } catch (const distillery::Error&) {
  }
}

}  // namespace distillery::fuzz

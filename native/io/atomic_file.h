#pragma once
// All-or-nothing file replacement, so that a crash or a failed write never leaves a checkpoint
// half-written: readers see either the old file or the complete new one.
#include <cstdio>
#include <functional>
#include <string>

namespace distillery::io {

/**
 * Writes `path` through `write`, which streams the whole content into the FILE it is given.
 * The bytes go to a temporary file in the same directory (same filesystem, so the final rename is
 * atomic), which is flushed, fsynced, renamed over `path`, and the directory fsynced so the rename
 * itself survives a crash. Missing parent directories are created. Temporary files of `path` that a
 * process of this host left when it was killed mid-write (named `<path>.tmp-<host>-<pid>-<random>`,
 * the pid no longer running) are removed first.
 *
 * On any failure, including an exception from `write`, the temporary file is removed and an
 * existing `path` is left untouched; `write`'s exception propagates, I/O failures throw E_IO
 * naming the path and the system's reason. Stream errors inside `write` need no checking there:
 * they are sticky on the FILE and reported after it returns.
 */
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write);

}  // namespace distillery::io

#pragma once
// A teacher soft-label cache (FKD-style): for every training image, K crops (box and flip) and the
// ensemble's top-k probabilities on each, so distillation can replay them without running teachers.
// This file and soft_label_cache.cpp are the only definition of the format: the reader and the
// writer below both lay records out through SoftLabelLayout.
//
// Layout, little-endian: "DSTLSOFT", uint64 JSON length, the JSON header, zero padding to a multiple
// of 8, then samples x crops records of int32 top, left, height, width, flip, uint16 classes[topK],
// float16 probabilities[topK], (header "logits": true) float16 mean logits[numClasses], and (header
// "perTeacher": true) each teacher's uint16 classes[topK] and float16 probabilities[topK]; record
// (i, k) is crop k of sample i.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "io/posix_file.h"

namespace distillery::data {

/** One record's crop: the box in full-resolution pixels and whether it is mirrored. */
struct CachedCrop {
  int32_t top = 0;
  int32_t left = 0;
  int32_t height = 0;
  int32_t width = 0;
  bool flip = false;
};

/** What a header implies about the bytes after it. */
struct SoftLabelLayout {
  int64_t samples = 0, crops = 0, top_k = 0, num_classes = 0;
  bool logits = false;
  int64_t teachers = 0;  // teachers whose own top-k each record also holds (0: only the ensemble's)
  int64_t data_offset = 0;
  int64_t record_bytes = 0;

  /** Reads and checks the header's shape fields; E_CORRUPT_FILE naming `path` when one is missing or
   *  not a positive integer, or when the records would not fit in a file. */
  static SoftLabelLayout of(const nlohmann::json& header, int64_t header_bytes, const std::string& path);
  /** Bytes of the whole file. */
  int64_t file_bytes() const { return data_offset + samples * crops * record_bytes; }
  /** Where record (sample, crop) starts. */
  int64_t offset(int64_t sample, int64_t crop) const { return data_offset + (sample * crops + crop) * record_bytes; }
};

/** A mapped cache, read by the loader of a run that replays it. */
class SoftLabelCache {
 public:
  /** Maps `path`; E_FILE_NOT_FOUND, or E_CORRUPT_FILE naming it when the header or size is wrong. */
  explicit SoftLabelCache(const std::string& path);
  const std::string& path() const { return path_; }
  /** The header as written (teachers, dataset, transform, seed, temperature). */
  const nlohmann::json& header() const { return header_; }
  int64_t samples() const { return layout_.samples; }
  int64_t crops() const { return layout_.crops; }
  int64_t top_k() const { return layout_.top_k; }
  int64_t num_classes() const { return layout_.num_classes; }
  /** Whether records hold the ensemble's mean logits (what MEAL V2's discriminator needs). */
  bool has_logits() const { return layout_.logits; }
  /** Crop `k` of sample `index`; its classes and probabilities (top_k() each) when both are given,
   *  and its mean logits (num_classes()) when `logits` is given and the cache has them. */
  CachedCrop read(int64_t index, int64_t k, int64_t* classes, float* probabilities, float* logits = nullptr) const;

 private:
  std::string path_;
  io::ReadableFile file_;
  std::unique_ptr<io::MappedFile> map_;
  nlohmann::json header_;
  SoftLabelLayout layout_;
};

/** One batch's records: what the teachers said on each sample's crop. */
struct SoftLabelRows {
  torch::Tensor indices;          // int64 [B]: the samples' positions in the dataset
  torch::Tensor crops;            // int32 [B, 5]: top, left, height, width, flip
  torch::Tensor classes;          // int64 [B, top_k]
  torch::Tensor values;           // float [B, top_k]
  torch::Tensor logits;           // float [B, K] (written when the header asks for logits)
  torch::Tensor teacher_classes;  // int64 [T, B, top_k] (written when the header asks for perTeacher)
  torch::Tensor teacher_values;   // float [T, B, top_k]
};

/** Writes a cache in place, pass by pass; the caller decides when a pass is done and renames the
 *  finished file (src/io/soft-label-cache.ts keeps the progress). */
class SoftLabelCacheWriter {
 public:
  /** Opens `path` for `header`. With `resume`, an existing file that starts with this exact header
   *  and has the full size is kept (resumed() is true); otherwise the file is written afresh: the
   *  header, then zeroed records. E_IO naming `path` when it cannot be written. */
  SoftLabelCacheWriter(std::string path, const nlohmann::json& header, bool resume);
  bool resumed() const { return resumed_; }
  const SoftLabelLayout& layout() const { return layout_; }
  /** Writes record (rows.indices[i], pass) of every row; E_SHAPE when the rows do not fit the header. */
  void write(int64_t pass, const SoftLabelRows& rows);
  /** Makes every record written so far durable (fsync). */
  void sync();
  /** Syncs and closes the file; later writes fail with E_DISPOSED. */
  void close();

 private:
  std::mutex mutex_;
  std::string path_;
  io::UniqueFd fd_;
  SoftLabelLayout layout_;
  bool resumed_ = false;
};

}  // namespace distillery::data

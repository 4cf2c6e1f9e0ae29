#pragma once
// A teacher soft-label cache (FKD-style): for every training image, K crops (box and flip) and the
// ensemble's top-k probabilities on each, so distillation can replay them without running teachers.
//
// Layout, little-endian: "DSTLSOFT", uint64 JSON length, the JSON header, zero padding to a multiple
// of 8, then samples x crops records of int32 top, left, height, width, flip, uint16 classes[topK],
// float16 probabilities[topK], (header "logits": true) float16 mean logits[numClasses], and (header
// "perTeacher": true) each teacher's uint16 classes[topK] and float16 probabilities[topK]; record
// (i, k) is crop k of sample i.
#include <cstdint>
#include <memory>
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

/** Bytes of one record holding `top_k` labels, `logits` logits (0 or the class count) and the top-k
 *  of `teachers` teachers (0 when the cache keeps only the ensemble's). */
int64_t soft_record_bytes(int64_t top_k, int64_t logits, int64_t teachers);

class SoftLabelCache {
 public:
  /** Maps `path`; E_FILE_NOT_FOUND, or E_CORRUPT_FILE naming it when the header or size is wrong. */
  explicit SoftLabelCache(const std::string& path);
  const std::string& path() const { return path_; }
  /** The header as written (teachers, dataset, transform, seed, temperature). */
  const nlohmann::json& header() const { return header_; }
  int64_t samples() const { return samples_; }
  int64_t crops() const { return crops_; }
  int64_t top_k() const { return top_k_; }
  int64_t num_classes() const { return num_classes_; }
  /** Whether records hold the ensemble's mean logits (what MEAL V2's discriminator needs). */
  bool has_logits() const { return logits_; }
  /** Crop `k` of sample `index`; its classes and probabilities (top_k() each) when both are given,
   *  and its mean logits (num_classes()) when `logits` is given and the cache has them. */
  CachedCrop read(int64_t index, int64_t k, int64_t* classes, float* probabilities, float* logits = nullptr) const;

 private:
  std::string path_;
  io::ReadableFile file_;
  std::unique_ptr<io::MappedFile> map_;
  nlohmann::json header_;
  int64_t samples_ = 0, crops_ = 0, top_k_ = 0, num_classes_ = 0, data_offset_ = 0;
  bool logits_ = false;
  int64_t teacher_records_ = 0;  // teachers whose own top-k each record also holds
  int64_t record_bytes_ = 0;
};

}  // namespace distillery::data

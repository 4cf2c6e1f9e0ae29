#pragma once
// What a Loader batches: a numbered set of labelled samples, each written as uint8 C x H x W by a
// pure function of (index, seed), so batches do not depend on which thread built them.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "data/dataset.h"

namespace distillery::data {

/** How a sample is written, and what it brings besides its pixels (a null pointer: not wanted). */
struct SampleExtras {
  bool hwc = false;                 // pixels as H x W x C (a channels-last batch) instead of C x H x W
  int32_t* crop = nullptr;          // 5 values: top, left, height, width, flip
  int64_t* soft_indices = nullptr;  // soft_k() classes
  float* soft_values = nullptr;     // soft_k() probabilities
  float* soft_logits = nullptr;     // soft_logits() mean teacher logits
};

class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual const std::string& name() const = 0;
  virtual int64_t size() const = 0;
  virtual int64_t label(int64_t index) const = 0;
  /** Channels, height and width of every sample written. */
  virtual std::array<int64_t, 3> sample_shape() const = 0;
  /** Writes sample `index` of `epoch`, augmented by draws from `seed`, to `dst`, and the extras asked
   *  for; thread-safe. A file that cannot be read throws E_FILE_NOT_FOUND, E_IO or E_CORRUPT_FILE
   *  naming it. */
  virtual void write(int64_t index, int64_t epoch, uint64_t seed, uint8_t* dst, const SampleExtras& extras) const = 0;
  /** Whether write() reports crop boxes. */
  virtual bool has_crops() const { return false; }
  /** Soft labels per sample that write() replays (0: none). */
  virtual int64_t soft_k() const { return 0; }
  /** Teacher logits per sample that write() replays (0: none). */
  virtual int64_t soft_logits() const { return 0; }
};

/** An in-memory ImageDataset with torchvision's RandomCrop(padding=pad) and horizontal flip. */
class MemorySource final : public SampleSource {
 public:
  /** E_SHAPE unless images are contiguous CPU uint8 [N, C, H, W] and labels int64 [N]. */
  MemorySource(std::shared_ptr<const ImageDataset> dataset, int64_t pad, bool flip);
  const std::string& name() const override { return dataset_->name; }
  int64_t size() const override { return dataset_->size(); }
  int64_t label(int64_t index) const override { return labels_[index]; }
  std::array<int64_t, 3> sample_shape() const override { return shape_; }
  void write(int64_t index, int64_t epoch, uint64_t seed, uint8_t* dst, const SampleExtras& extras) const override;

 private:
  std::shared_ptr<const ImageDataset> dataset_;
  int64_t pad_;
  bool flip_;
  std::array<int64_t, 3> shape_;
  const int64_t* labels_;
};

}  // namespace distillery::data

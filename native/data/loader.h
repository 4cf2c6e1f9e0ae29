#pragma once
// Batches a SampleSource (an in-memory dataset, image files) on background threads. Batches come out
// in a fixed order and with fixed augmentation for a given (seed, epoch), whatever the worker count or
// thread timing.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/sample_source.h"

namespace distillery::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;  // drop this rank's last batch when it is short
  uint64_t seed = 0;
  // In-memory datasets only (a file dataset's transform does its own augmentation):
  int64_t pad = 0;                // RandomCrop(size, padding=pad): zero-pad, crop back at offsets uniform in [0, 2*pad]
  bool flip = false;              // RandomHorizontalFlip(p=0.5)
  bool skip_bad = false;          // leave out samples whose file cannot be read (counted) instead of failing
  bool pin_memory = false;        // page-locked batches, for copies to a GPU that overlap compute (CUDA only)
  bool channels_last = false;     // batch images [B, C, H, W] laid out as NHWC in memory (torch.channels_last)
  int workers = 0;                // threads building batches; 0 = all cores
  int prefetch = 4;               // batches ready or being built at once; more workers than this stay idle
  std::vector<float> mean{0.0f};  // copied into each Batch for normalize_images, 1 or C values
  std::vector<float> std{1.0f};
  std::vector<int64_t> subset;  // when non-empty, the only dataset indices visited
  int64_t rank = 0;             // DistributedSampler: this process's share of each epoch
  int64_t world_size = 1;
};

/** Not thread-safe on the consumer side: one thread calls start_epoch and next. */
class Loader {
 public:
  /** Throws E_ARGUMENT / E_SHAPE for bad options or a dataset that is not uint8 [N, C, H, W]
   *  contiguous with int64 [N] labels. */
  Loader(std::shared_ptr<const ImageDataset> dataset, LoaderOptions options);
  /** A source that augments its own samples; E_ARGUMENT when options ask for pad or flip. */
  Loader(std::shared_ptr<const SampleSource> source, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /** Abandons any running epoch and starts building `epoch`'s batches in the background. */
  void start_epoch(int64_t epoch);
  /** The epoch's next batch, in order, waiting for it if needed; nullopt once the epoch is done.
   *  Rethrows an exception a worker hit, when the consumer reaches the batch that failed. With
   *  skip_bad, a batch lacks the samples whose files could not be read. */
  std::optional<Batch> next();

  int64_t batches_per_epoch() const;
  /** Samples this rank yields per epoch (padding included, a dropped last batch excluded). */
  int64_t samples_per_epoch() const;
  const LoaderOptions& options() const { return options_; }
  const SampleSource& source() const { return *source_; }
  /** Samples left out (skip_bad) since the epoch started. */
  int64_t skipped() const { return skipped_.load(); }

 private:
  // Where both public constructors meet, past their own checks.
  struct Shared {};
  Loader(Shared, std::shared_ptr<const SampleSource> source, LoaderOptions options);
  void stop();
  void work();
  std::optional<Batch> next_built();
  Batch build(int64_t batch);

  std::shared_ptr<const SampleSource> source_;
  LoaderOptions options_;
  std::atomic<int64_t> skipped_{0};
  std::vector<int64_t> pool_;  // the subset, or every index
  int64_t batches_ = 0;        // the same every epoch

  // Fixed while an epoch's workers run; written only by start_epoch after stop().
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;

  std::mutex mutex_;
  std::condition_variable work_cv_;          // workers wait for room in the window
  std::condition_variable ready_cv_;         // the consumer waits for its batch
  std::vector<std::optional<Batch>> slots_;  // batch k waits in slot k % prefetch until taken
  int64_t next_build_ = 0;
  int64_t consumed_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  int64_t error_batch_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace distillery::data

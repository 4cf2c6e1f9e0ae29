#include "data/loader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/limits.h"
#include "core/runtime.h"
#include "data/sampler.h"

namespace distillery::data {

namespace {
void check_options(const LoaderOptions& o, const SampleSource& d) {
  if (o.batch_size < 1) fail(ErrorCode::InvalidArgument, "batch_size must be >= 1, got ", o.batch_size);
  if (o.workers < 0) fail(ErrorCode::InvalidArgument, "workers must be >= 0 (0 = all cores), got ", o.workers);
  if (o.prefetch < 1) fail(ErrorCode::InvalidArgument, "prefetch must be >= 1, got ", o.prefetch);
  check_limit(Limit::BatchSize, o.batch_size, "loader batch size");
  check_limit(Limit::Threads, o.workers, "loader workers");
  check_limit(Limit::Prefetch, o.prefetch, "loader prefetch");
  if (o.world_size < 1) fail(ErrorCode::InvalidArgument, "world_size must be >= 1, got ", o.world_size);
  if (o.rank < 0 || o.rank >= o.world_size) {
    fail(ErrorCode::InvalidArgument, "rank must be in [0, ", o.world_size, "), got ", o.rank);
  }
  for (const int64_t i : o.subset) {
    if (i < 0 || i >= d.size()) {
      fail(ErrorCode::InvalidArgument, "subset index ", i, " is out of range for dataset '", d.name(), "' of ", d.size(),
           " samples");
    }
  }
  check_normalization(o.mean, o.std, d.sample_shape()[0]);
}
}  // namespace

Loader::Loader(std::shared_ptr<const ImageDataset> dataset, LoaderOptions options)
    : Loader(Shared{}, std::make_shared<const MemorySource>(std::move(dataset), options.pad, options.flip), options) {}

Loader::Loader(std::shared_ptr<const SampleSource> source, LoaderOptions options) : Loader(Shared{}, std::move(source), options) {
  if (options_.pad != 0 || options_.flip) {
    fail(ErrorCode::InvalidArgument, "pad and flip apply to in-memory datasets; '", source_->name(),
         "' augments its samples through its own transform");
  }
}

Loader::Loader(Shared, std::shared_ptr<const SampleSource> source, LoaderOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  if (!source_) fail(ErrorCode::InvalidArgument, "loader needs a dataset");
  check_options(options_, *source_);
  if (options_.workers == 0) options_.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // A CPU-only LibTorch has no pinned allocator; there is nothing to overlap with there anyway.
  options_.pin_memory = options_.pin_memory && torch::cuda::is_available();
  pool_ = options_.subset;
  if (pool_.empty()) {
    pool_.resize(static_cast<size_t>(source_->size()));
    std::iota(pool_.begin(), pool_.end(), int64_t{0});
  }
  batches_ = batches_per_epoch();
}

Loader::~Loader() { stop(); }

int64_t Loader::batches_per_epoch() const {
  const int64_t n = samples_per_rank(static_cast<int64_t>(pool_.size()), options_.world_size);
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

int64_t Loader::samples_per_epoch() const {
  const int64_t n = samples_per_rank(static_cast<int64_t>(pool_.size()), options_.world_size);
  return options_.drop_last ? n / options_.batch_size * options_.batch_size : n;
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void Loader::start_epoch(int64_t epoch) {
  if (epoch < 0) fail(ErrorCode::InvalidArgument, "epoch must be >= 0, got ", epoch);
  stop();
  epoch_ = epoch;
  order_ = epoch_indices(pool_, options_.shuffle, options_.seed, epoch, options_.rank, options_.world_size);
  slots_.assign(static_cast<size_t>(options_.prefetch), std::nullopt);
  next_build_ = 0;
  consumed_ = 0;
  error_ = nullptr;
  error_batch_ = std::numeric_limits<int64_t>::max();
  skipped_ = 0;
  stopping_ = false;
  started_ = true;

  const int64_t count = std::min<int64_t>({options_.workers, options_.prefetch, batches_});
  try {
    for (int64_t i = 0; i < count; ++i) threads_.emplace_back(&Loader::work, this);
  } catch (...) {
    stop();
    started_ = false;
    throw;
  }
}

std::optional<Batch> Loader::next() {
  // A batch whose every file was skipped is not worth a step.
  for (;;) {
    std::optional<Batch> batch = next_built();
    if (!batch || batch->size() > 0) return batch;
  }
}

std::optional<Batch> Loader::next_built() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) fail(ErrorCode::InvalidArgument, "Loader::next() called before start_epoch()");
  if (consumed_ >= batches_) return std::nullopt;
  std::optional<Batch>& slot = slots_[static_cast<size_t>(consumed_ % options_.prefetch)];
  // Every batch before the first failed one is still delivered, so where the error surfaces does
  // not depend on which worker got there first.
  ready_cv_.wait(lock, [&] { return slot.has_value() || consumed_ >= error_batch_; });
  if (!slot) std::rethrow_exception(error_);
  std::optional<Batch> out = std::move(slot);
  slot.reset();
  ++consumed_;
  lock.unlock();
  work_cv_.notify_one();
  return out;
}

void Loader::work() {
  keep_thread_serial();
  for (;;) {
    int64_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(
          lock, [&] { return stopping_ || error_ || next_build_ >= batches_ || next_build_ < consumed_ + options_.prefetch; });
      if (stopping_ || error_ || next_build_ >= batches_) return;
      k = next_build_++;
    }
    try {
      Batch batch = build(k);
      std::lock_guard<std::mutex> lock(mutex_);
      slots_[static_cast<size_t>(k % options_.prefetch)] = std::move(batch);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (k < error_batch_) {
          error_ = std::current_exception();
          error_batch_ = k;
        }
      }
      work_cv_.notify_all();
      ready_cv_.notify_one();
      return;
    }
    ready_cv_.notify_one();
  }
}

Batch Loader::build(int64_t batch) {
  const int64_t begin = batch * options_.batch_size;
  const int64_t size = std::min<int64_t>(options_.batch_size, static_cast<int64_t>(order_.size()) - begin);
  const auto [channels, height, width] = source_->sample_shape();
  const int64_t sample_bytes = channels * height * width;

  Batch out;
  const auto pixel_options = torch::TensorOptions(torch::kUInt8).pinned_memory(options_.pin_memory);
  // NHWC storage seen as [B, C, H, W]: exactly PyTorch's channels_last layout.
  out.images = options_.channels_last ? torch::empty({size, height, width, channels}, pixel_options).permute({0, 3, 1, 2})
                                      : torch::empty({size, channels, height, width}, pixel_options);
  out.labels = torch::empty({size}, torch::kLong);
  out.indices = torch::empty({size}, torch::kLong);
  out.mean = options_.mean;
  out.std = options_.std;

  const int64_t soft_k = source_->soft_k();
  if (source_->has_crops()) out.crops = torch::empty({size, 5}, torch::kInt);
  if (soft_k > 0) {
    out.soft_indices = torch::empty({size, soft_k}, torch::kLong);
    out.soft_values = torch::empty({size, soft_k}, torch::kFloat);
  }
  const int64_t soft_logits = source_->soft_logits();
  if (soft_logits > 0) out.soft_logits = torch::empty({size, soft_logits}, torch::kFloat);

  uint8_t* images = out.images.data_ptr<uint8_t>();
  int64_t* out_labels = out.labels.data_ptr<int64_t>();
  int64_t* out_indices = out.indices.data_ptr<int64_t>();
  int64_t kept = 0;
  for (int64_t i = 0; i < size; ++i) {
    const int64_t index = order_[static_cast<size_t>(begin + i)];
    SampleExtras extras;
    extras.hwc = options_.channels_last;
    if (out.crops.defined()) extras.crop = out.crops.data_ptr<int32_t>() + kept * 5;
    if (soft_k > 0) {
      extras.soft_indices = out.soft_indices.data_ptr<int64_t>() + kept * soft_k;
      extras.soft_values = out.soft_values.data_ptr<float>() + kept * soft_k;
    }
    if (soft_logits > 0) extras.soft_logits = out.soft_logits.data_ptr<float>() + kept * soft_logits;
    try {
      source_->write(index, epoch_, sample_seed(options_.seed, epoch_, index), images + kept * sample_bytes, extras);
    } catch (const Error& e) {
      const bool unreadable = e.code() == ErrorCode::CorruptFile || e.code() == ErrorCode::FileNotFound ||
                              e.code() == ErrorCode::Io || e.code() == ErrorCode::Limit;
      if (!options_.skip_bad || !unreadable) throw;
      skipped_.fetch_add(1);
      continue;
    }
    out_indices[kept] = index;
    out_labels[kept] = source_->label(index);
    ++kept;
  }
  if (kept < size) {
    for (torch::Tensor* t :
         {&out.images, &out.labels, &out.indices, &out.crops, &out.soft_indices, &out.soft_values, &out.soft_logits}) {
      if (t->defined()) *t = t->narrow(0, 0, kept);
    }
  }
  return out;
}

}  // namespace distillery::data

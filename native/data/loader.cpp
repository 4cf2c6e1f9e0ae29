#include "data/loader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "data/augment.h"
#include "data/sampler.h"

namespace distillery::data {

namespace {
void check_dataset(const ImageDataset& d) {
  if (!d.images.defined() || d.images.dim() != 4 || d.images.scalar_type() != torch::kUInt8 ||
      !d.images.is_contiguous() || !d.images.device().is_cpu()) {
    fail(ErrorCode::Shape, "loader dataset '", d.name, "' needs contiguous CPU uint8 images [N, C, H, W]");
  }
  if (!d.labels.defined() || d.labels.dim() != 1 || d.labels.scalar_type() != torch::kLong ||
      !d.labels.is_contiguous() || !d.labels.device().is_cpu() || d.labels.size(0) != d.images.size(0)) {
    fail(ErrorCode::Shape, "loader dataset '", d.name, "' needs contiguous CPU int64 labels [", d.images.size(0), "]");
  }
}

void check_options(const LoaderOptions& o, const ImageDataset& d) {
  if (o.batch_size < 1) fail(ErrorCode::InvalidArgument, "batch_size must be >= 1, got ", o.batch_size);
  if (o.pad < 0) fail(ErrorCode::InvalidArgument, "pad must be >= 0, got ", o.pad);
  if (o.workers < 0) fail(ErrorCode::InvalidArgument, "workers must be >= 0 (0 = all cores), got ", o.workers);
  if (o.prefetch < 1) fail(ErrorCode::InvalidArgument, "prefetch must be >= 1, got ", o.prefetch);
  if (o.world_size < 1) fail(ErrorCode::InvalidArgument, "world_size must be >= 1, got ", o.world_size);
  if (o.rank < 0 || o.rank >= o.world_size) {
    fail(ErrorCode::InvalidArgument, "rank must be in [0, ", o.world_size, "), got ", o.rank);
  }
  for (const int64_t i : o.subset) {
    if (i < 0 || i >= d.size()) {
      fail(ErrorCode::InvalidArgument, "subset index ", i, " is out of range for dataset '", d.name, "' of ", d.size(),
           " samples");
    }
  }
  check_normalization(o.mean, o.std, d.images.size(1));
}
}  // namespace

Loader::Loader(std::shared_ptr<const ImageDataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  if (!dataset_) fail(ErrorCode::InvalidArgument, "loader needs a dataset");
  check_dataset(*dataset_);
  check_options(options_, *dataset_);
  if (options_.workers == 0) options_.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = options_.subset;
  if (pool_.empty()) {
    pool_.resize(static_cast<size_t>(dataset_->size()));
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
  for (;;) {
    int64_t k;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] {
        return stopping_ || error_ || next_build_ >= batches_ || next_build_ < consumed_ + options_.prefetch;
      });
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

Batch Loader::build(int64_t batch) const {
  const ImageDataset& d = *dataset_;
  const int64_t begin = batch * options_.batch_size;
  const int64_t size = std::min<int64_t>(options_.batch_size, static_cast<int64_t>(order_.size()) - begin);
  const int64_t channels = d.images.size(1), height = d.images.size(2), width = d.images.size(3);
  const int64_t sample_bytes = channels * height * width;

  Batch out;
  out.images = torch::empty({size, channels, height, width}, torch::kUInt8);
  out.labels = torch::empty({size}, torch::kLong);
  out.indices = torch::empty({size}, torch::kLong);
  out.mean = options_.mean;
  out.std = options_.std;

  const uint8_t* src = d.images.data_ptr<uint8_t>();
  const int64_t* labels = d.labels.data_ptr<int64_t>();
  uint8_t* images = out.images.data_ptr<uint8_t>();
  int64_t* out_labels = out.labels.data_ptr<int64_t>();
  int64_t* out_indices = out.indices.data_ptr<int64_t>();
  const bool augment = options_.pad > 0 || options_.flip;
  for (int64_t i = 0; i < size; ++i) {
    const int64_t index = order_[static_cast<size_t>(begin + i)];
    out_indices[i] = index;
    out_labels[i] = labels[index];
    const uint8_t* from = src + index * sample_bytes;
    uint8_t* to = images + i * sample_bytes;
    if (augment) {
      const CropFlip t = draw_crop_flip(sample_seed(options_.seed, epoch_, index), options_.pad, options_.flip);
      crop_flip(from, to, channels, height, width, options_.pad, t);
    } else {
      std::memcpy(to, from, static_cast<size_t>(sample_bytes));
    }
  }
  return out;
}

}  // namespace distillery::data

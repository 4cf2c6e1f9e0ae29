#pragma once
// Image files on disk as a dataset (a FileList) with the transform that turns a file into a training
// or evaluation sample: read, decode only what the crop needs, resize, flip.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "data/crop_geometry.h"
#include "data/file_list.h"
#include "data/sample_source.h"
#include "data/soft_label_cache.h"

namespace distillery::data {

/** torchvision's training (RandomResizedCrop + RandomHorizontalFlip) or evaluation (Resize +
 *  CenterCrop) transform, both with antialiased bilinear resampling. */
struct FileTransform {
  bool train = true;
  int64_t size = 224;
  int64_t resize = 256;  // evaluation: the shorter side before the centre crop
  CropRanges ranges;     // training
  bool flip = true;      // training
  bool dct_scaling = true;
};

/** Where a training sample's crop falls in its full-resolution image, and whether it is mirrored. */
struct CropDraw {
  Region region;
  bool flip = false;
};

/** The training transform's draw for an image of `height` x `width` from a sample seed. */
CropDraw draw_crop(int64_t height, int64_t width, const FileTransform& t, uint64_t seed);

/** Counters of the work done since construction (or the last take_stats). */
struct DecodeStats {
  int64_t images = 0;
  int64_t bytes = 0;
  int64_t eighths = 0;  // summed DCT scale, in eighths, over the images
};

/** Throws E_ARGUMENT naming the setting when a transform value is out of range. */
void check_transform(const FileTransform& t);

class ImageFolder final : public SampleSource {
 public:
  /** With `cache`, training samples replay the cached crops (crop epoch % K of each sample) and
   *  their soft labels instead of drawing crops; E_ARGUMENT when the cache does not fit the files. */
  ImageFolder(std::string name, std::shared_ptr<const FileList> files, FileTransform transform,
              std::shared_ptr<const SoftLabelCache> cache = nullptr);
  const std::string& name() const override { return name_; }
  int64_t size() const override { return static_cast<int64_t>(files_->paths.size()); }
  int64_t label(int64_t index) const override { return files_->labels[static_cast<size_t>(index)]; }
  std::array<int64_t, 3> sample_shape() const override { return {3, transform_.size, transform_.size}; }
  void write(int64_t index, int64_t epoch, uint64_t seed, uint8_t* dst, const SampleExtras& extras) const override;
  bool has_crops() const override { return transform_.train; }
  int64_t soft_k() const override { return cache_ ? cache_->top_k() : 0; }
  int64_t soft_logits() const override { return cache_ && cache_->has_logits() ? cache_->num_classes() : 0; }

  const FileList& files() const { return *files_; }
  const std::shared_ptr<const SoftLabelCache>& cache() const { return cache_; }
  /** FNV-1a over every path and label, in order: what a soft-label cache records of its dataset. */
  std::string fingerprint() const;
  const FileTransform& transform() const { return transform_; }
  int64_t num_classes() const { return num_classes_; }
  /** The path of sample `index` as it was listed (root joined). */
  std::string path(int64_t index) const;
  /** The crop and flip write() draws for sample `index` from `seed` (reads the file's header). */
  CropDraw crop_for(int64_t index, uint64_t seed) const;
  /** Returns the counters and starts them again from zero. */
  DecodeStats take_stats() const;

 private:
  std::string name_;
  std::shared_ptr<const FileList> files_;
  FileTransform transform_;
  std::shared_ptr<const SoftLabelCache> cache_;
  int64_t num_classes_ = 0;
  mutable std::atomic<int64_t> images_{0};
  mutable std::atomic<int64_t> bytes_{0};
  mutable std::atomic<int64_t> eighths_{0};
};

}  // namespace distillery::data

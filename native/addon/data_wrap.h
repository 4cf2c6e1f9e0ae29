#pragma once
#include <napi.h>

#include "addon/live_handles.h"

#include <memory>
#include <mutex>

#include "data/dataset.h"
#include "data/image_folder.h"
#include "data/loader.h"

namespace distillery::addon {

/** A dataset as JS holds it: a split in memory, or image files with their transform (one is set). */
struct DatasetRef {
  std::shared_ptr<const data::ImageDataset> memory;
  std::shared_ptr<const data::ImageFolder> files;
};

/** JS class Dataset: a split held in memory, or image files read as they are batched. */
class DatasetWrap : public Napi::ObjectWrap<DatasetWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  static Napi::Object wrap(Napi::Env env, DatasetRef dataset);
  static DatasetRef unwrap(Napi::Value value, const std::string& name);
  explicit DatasetWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value labels(const Napi::CallbackInfo& info);
  Napi::Value with_labels(const Napi::CallbackInfo& info);
  Napi::Value decode_stats(const Napi::CallbackInfo& info);
  Napi::Value crops(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  DatasetRef dataset_;
  LiveHandle live_;
};

/** JS class Batch: one batch from a Loader. */
class BatchWrap : public Napi::ObjectWrap<BatchWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<const data::Batch> batch);
  static std::shared_ptr<const data::Batch> unwrap(Napi::Value value, const std::string& name);
  explicit BatchWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<const data::Batch>& handle() const;
  Napi::Value size(const Napi::CallbackInfo& info);
  Napi::Value images(const Napi::CallbackInfo& info);
  Napi::Value labels(const Napi::CallbackInfo& info);
  Napi::Value indices(const Napi::CallbackInfo& info);
  Napi::Value crops(const Napi::CallbackInfo& info);
  Napi::Value soft_labels(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<const data::Batch> batch_;
  LiveHandle live_;
};

/** JS class Loader: threaded batches of a Dataset. */
class LoaderWrap : public Napi::ObjectWrap<LoaderWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  explicit LoaderWrap(const Napi::CallbackInfo& info);

 private:
  struct Handle {
    Handle(std::shared_ptr<const data::ImageDataset> dataset, const data::LoaderOptions& options)
        : loader(std::move(dataset), options) {}
    Handle(std::shared_ptr<const data::SampleSource> source, const data::LoaderOptions& options)
        : loader(std::move(source), options) {}
    data::Loader loader;
    std::mutex mutex;
  };
  const std::shared_ptr<Handle>& handle() const;
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value start_epoch(const Napi::CallbackInfo& info);
  Napi::Value next(const Napi::CallbackInfo& info);
  Napi::Value skipped(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<Handle> loader_;
  LiveHandle live_;
};

/** loadIdx(dir, split): Promise<Dataset>. */
Napi::Value load_idx(const Napi::CallbackInfo& info);
/** loadCifar(dir, split): Promise<Dataset>, CIFAR-10 or CIFAR-100 binary files. */
Napi::Value load_cifar(const Napi::CallbackInfo& info);
/** openImageFolder({root | list, train, size, resize, scaleMin/Max, ratioMin/Max, flip, dctScaling, softLabels}):
 * Promise<Dataset>. */
Napi::Value open_image_folder(const Napi::CallbackInfo& info);

}  // namespace distillery::addon

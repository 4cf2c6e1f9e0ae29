#include "addon/data_wrap.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/instance.h"
#include "core/error.h"
#include "core/limits.h"
#include "data/cifar.h"
#include "data/idx.h"
#include "data/sampler.h"

namespace distillery::addon {

namespace {
bool is_instance(Napi::Value value, const Napi::FunctionReference& ctor) {
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(ctor.Value());
}
}  // namespace

// ---- Dataset ----

void DatasetWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(
      env, "Dataset",
      {InstanceMethod("info", &DatasetWrap::info), InstanceMethod("labels", &DatasetWrap::labels),
       InstanceMethod("withLabels", &DatasetWrap::with_labels), InstanceMethod("decodeStats", &DatasetWrap::decode_stats),
       InstanceMethod("crops", &DatasetWrap::crops), InstanceMethod("dispose", &DatasetWrap::dispose)});
  instance(env).dataset_class = Napi::Persistent(ctor);
  exports.Set("Dataset", ctor);
}

Napi::Object DatasetWrap::wrap(Napi::Env env, DatasetRef dataset) {
  Napi::Object object = instance(env).dataset_class.New({});
  DatasetWrap* wrap = Unwrap(object);
  wrap->dataset_ = std::move(dataset);
  wrap->live_ = LiveHandle(env, HandleKind::Dataset);
  return object;
}

DatasetRef DatasetWrap::unwrap(Napi::Value value, const std::string& name) {
  if (!is_instance(value, instance(value.Env()).dataset_class)) fail(ErrorCode::InvalidArgument, name, " must be a Dataset");
  const DatasetRef& dataset = Unwrap(value.As<Napi::Object>())->dataset_;
  if (!dataset.memory && !dataset.files)
    fail(ErrorCode::Disposed, name, ": this Dataset was disposed (or not made by loadIdx or openImageFolder)");
  return dataset;
}

DatasetWrap::DatasetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DatasetWrap>(info) {}

Napi::Value DatasetWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DatasetRef dataset = unwrap(Value(), "this");
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    Napi::Array shape = Napi::Array::New(env, 3);
    if (dataset.memory) {
      out.Set("name", dataset.memory->name);
      out.Set("size", Napi::Number::New(env, static_cast<double>(dataset.memory->size())));
      out.Set("numClasses", Napi::Number::New(env, static_cast<double>(dataset.memory->num_classes)));
      for (uint32_t i = 0; i < 3; ++i)
        shape.Set(i, Napi::Number::New(env, static_cast<double>(dataset.memory->images.size(i + 1))));
    } else {
      const data::ImageFolder& d = *dataset.files;
      out.Set("name", d.name());
      out.Set("size", Napi::Number::New(env, static_cast<double>(d.size())));
      out.Set("numClasses", Napi::Number::New(env, static_cast<double>(d.num_classes())));
      const auto s = d.sample_shape();
      for (uint32_t i = 0; i < 3; ++i) shape.Set(i, Napi::Number::New(env, static_cast<double>(s[i])));
      Napi::Array classes = Napi::Array::New(env, d.files().classes.size());
      for (uint32_t i = 0; i < d.files().classes.size(); ++i) classes.Set(i, d.files().classes[i]);
      out.Set("classes", classes);
      out.Set("root", d.files().root);
      out.Set("fingerprint", d.fingerprint());
      if (d.cache()) out.Set("softLabelHeader", d.cache()->header().dump());
    }
    out.Set("shape", shape);
    return out;
  });
}

Napi::Value DatasetWrap::labels(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DatasetRef dataset = unwrap(Value(), "this");
    if (dataset.memory) return tensor_to_js(info.Env(), dataset.memory->labels);
    const auto& labels = dataset.files->files().labels;
    return tensor_to_js(info.Env(), torch::tensor(labels, torch::kLong));
  });
}

Napi::Value DatasetWrap::with_labels(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DatasetRef dataset = unwrap(Value(), "this");
    const std::string name = dataset.memory ? dataset.memory->name : dataset.files->name();
    const int64_t size = dataset.memory ? dataset.memory->size() : dataset.files->size();
    const int64_t classes = dataset.memory ? dataset.memory->num_classes : dataset.files->num_classes();
    const torch::Tensor labels = tensor_from_js(info[0], "labels").to(torch::kLong).contiguous();
    if (labels.dim() != 1 || labels.size(0) != size) {
      fail(ErrorCode::Shape, "labels must be [", size, "] (one per sample of ", name, "), got ", labels.sizes());
    }
    if (labels.numel() && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= classes)) {
      fail(ErrorCode::InvalidArgument, "labels must lie in [0, ", classes, "), got values from ", labels.min().item<int64_t>(),
           " to ", labels.max().item<int64_t>());
    }
    if (dataset.memory) {
      // The images are shared, not copied: a relabelled view costs only its labels.
      auto relabelled = std::make_shared<data::ImageDataset>(*dataset.memory);
      relabelled->labels = labels;
      return DatasetWrap::wrap(info.Env(), {std::move(relabelled), nullptr});
    }
    auto files = std::make_shared<data::FileList>(dataset.files->files());
    files->labels.assign(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + size);
    return DatasetWrap::wrap(
        info.Env(), {nullptr, std::make_shared<const data::ImageFolder>(name, std::move(files), dataset.files->transform(),
                                                                        dataset.files->cache())});
  });
}

Napi::Value DatasetWrap::decode_stats(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DatasetRef dataset = unwrap(Value(), "this");
    if (!dataset.files)
      fail(ErrorCode::InvalidArgument, "decodeStats: '", dataset.memory->name, "' is held in memory; it decodes no files");
    const data::DecodeStats s = dataset.files->take_stats();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("images", Napi::Number::New(env, static_cast<double>(s.images)));
    out.Set("bytes", Napi::Number::New(env, static_cast<double>(s.bytes)));
    out.Set("meanScale",
            Napi::Number::New(env, s.images ? static_cast<double>(s.eighths) / (8.0 * static_cast<double>(s.images)) : 0.0));
    return out;
  });
}

Napi::Value DatasetWrap::crops(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const DatasetRef dataset = unwrap(Value(), "this");
    if (!dataset.files || !dataset.files->transform().train) {
      fail(ErrorCode::InvalidArgument, "crops: only image-file datasets with the training transform draw crops");
    }
    Options o(info[0], "crops");
    const std::vector<int64_t> indices = o.integers("indices");
    const auto seed = static_cast<uint64_t>(o.integer("seed", 0));
    const int64_t epoch = o.integer("epoch", 0);
    for (const int64_t i : indices) {
      if (i < 0 || i >= dataset.files->size())
        fail(ErrorCode::InvalidArgument, "crops: index ", i, " is out of range for ", dataset.files->size(), " samples");
    }
    std::shared_ptr<const data::ImageFolder> files = dataset.files;
    return run_async<std::vector<data::CropDraw>>(
        info.Env(),
        [files, indices, seed, epoch] {
          std::vector<data::CropDraw> out;
          for (const int64_t i : indices) out.push_back(files->crop_for(i, data::sample_seed(seed, epoch, i)));
          return out;
        },
        [](Napi::Env env, std::vector<data::CropDraw>& draws) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          const auto n = draws.size();
          Napi::Int32Array top = Napi::Int32Array::New(env, n), left = Napi::Int32Array::New(env, n);
          Napi::Int32Array height = Napi::Int32Array::New(env, n), width = Napi::Int32Array::New(env, n);
          Napi::Uint8Array flip = Napi::Uint8Array::New(env, n);
          for (size_t i = 0; i < n; ++i) {
            top[i] = static_cast<int32_t>(draws[i].region.top);
            left[i] = static_cast<int32_t>(draws[i].region.left);
            height[i] = static_cast<int32_t>(draws[i].region.height);
            width[i] = static_cast<int32_t>(draws[i].region.width);
            flip[i] = draws[i].flip ? 1 : 0;
          }
          out.Set("top", top);
          out.Set("left", left);
          out.Set("height", height);
          out.Set("width", width);
          out.Set("flip", flip);
          return out;
        },
        Executor::Pool);
  });
}

Napi::Value DatasetWrap::dispose(const Napi::CallbackInfo& info) {
  dataset_ = {};
  live_.release();
  return info.Env().Undefined();
}

Napi::Value load_idx(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string dir = string_arg(info, 0, "dir");
    const std::string split = string_arg(info, 1, "split");
    // The class count the data must fit (a named dataset's); 0 infers it from the labels.
    int64_t num_classes = 0;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsNumber()) fail(ErrorCode::InvalidArgument, "numClasses must be a number");
      num_classes = info[2].As<Napi::Number>().Int64Value();
    }
    return run_async<std::shared_ptr<const data::ImageDataset>>(
        info.Env(),
        [dir, split, num_classes] {
          return std::make_shared<const data::ImageDataset>(data::load_idx_split(dir, split, num_classes));
        },
        [](Napi::Env env, std::shared_ptr<const data::ImageDataset>& dataset) -> Napi::Value {
          return DatasetWrap::wrap(env, {dataset, nullptr});
        },
        Executor::Pool);
  });
}

Napi::Value load_cifar(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string dir = string_arg(info, 0, "dir");
    const std::string split = string_arg(info, 1, "split");
    return run_async<std::shared_ptr<const data::ImageDataset>>(
        info.Env(), [dir, split] { return std::make_shared<const data::ImageDataset>(data::load_cifar_split(dir, split)); },
        [](Napi::Env env, std::shared_ptr<const data::ImageDataset>& dataset) -> Napi::Value {
          return DatasetWrap::wrap(env, {dataset, nullptr});
        },
        Executor::Pool);
  });
}

Napi::Value open_image_folder(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Options o(info[0], "openImageFolder");
    const std::string root = o.string("root", ""), list = o.string("list", "");
    if (root.empty() && list.empty())
      fail(ErrorCode::InvalidArgument, "openImageFolder needs root (an ImageFolder tree) or list (a path,label file)");
    data::FileTransform t;
    t.train = o.boolean("train", true);
    t.size = o.integer("size", t.size);
    t.resize = o.integer("resize", t.resize);
    t.ranges = {o.number("scaleMin", t.ranges.scale_min), o.number("scaleMax", t.ranges.scale_max),
                o.number("ratioMin", t.ranges.ratio_min), o.number("ratioMax", t.ranges.ratio_max)};
    t.flip = o.boolean("flip", true);
    t.dct_scaling = o.boolean("dctScaling", true);
    data::check_transform(t);
    const std::string name = o.string("name", list.empty() ? root : list);
    const std::string soft_labels = o.string("softLabels", "");
    return run_async<std::shared_ptr<const data::ImageFolder>>(
        info.Env(),
        [root, list, t, name, soft_labels] {
          auto files = std::make_shared<const data::FileList>(list.empty() ? data::scan_image_folder(root)
                                                                           : data::read_file_list(list, root));
          auto cache = soft_labels.empty() ? nullptr : std::make_shared<const data::SoftLabelCache>(soft_labels);
          return std::make_shared<const data::ImageFolder>(name, std::move(files), t, std::move(cache));
        },
        [](Napi::Env env, std::shared_ptr<const data::ImageFolder>& dataset) -> Napi::Value {
          return DatasetWrap::wrap(env, {nullptr, dataset});
        },
        Executor::Pool);
  });
}

// ---- Batch ----

void BatchWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor =
      DefineClass(env, "Batch",
                  {InstanceMethod("size", &BatchWrap::size), InstanceMethod("images", &BatchWrap::images),
                   InstanceMethod("labels", &BatchWrap::labels), InstanceMethod("indices", &BatchWrap::indices),
                   InstanceMethod("crops", &BatchWrap::crops), InstanceMethod("softLabels", &BatchWrap::soft_labels),
                   InstanceMethod("dispose", &BatchWrap::dispose)});
  instance(env).batch_class = Napi::Persistent(ctor);
  exports.Set("Batch", ctor);
}

Napi::Object BatchWrap::wrap(Napi::Env env, std::shared_ptr<const data::Batch> batch) {
  Napi::Object object = instance(env).batch_class.New({});
  BatchWrap* wrap = Unwrap(object);
  wrap->batch_ = std::move(batch);
  wrap->live_ = LiveHandle(env, HandleKind::Batch);
  return object;
}

std::shared_ptr<const data::Batch> BatchWrap::unwrap(Napi::Value value, const std::string& name) {
  if (!is_instance(value, instance(value.Env()).batch_class)) fail(ErrorCode::InvalidArgument, name, " must be a Batch");
  return Unwrap(value.As<Napi::Object>())->handle();
}

BatchWrap::BatchWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BatchWrap>(info) {}

const std::shared_ptr<const data::Batch>& BatchWrap::handle() const {
  if (!batch_) fail(ErrorCode::Disposed, "this Batch was disposed");
  return batch_;
}

Napi::Value BatchWrap::size(const Napi::CallbackInfo& info) {
  return guarded(info.Env(),
                 [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(handle()->size())); });
}
Napi::Value BatchWrap::images(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return tensor_to_js(info.Env(), handle()->images); });
}
Napi::Value BatchWrap::labels(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return tensor_to_js(info.Env(), handle()->labels); });
}
Napi::Value BatchWrap::indices(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return tensor_to_js(info.Env(), handle()->indices); });
}
Napi::Value BatchWrap::crops(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& b = handle();
    return b->crops.defined() ? Napi::Value(tensor_to_js(info.Env(), b->crops)) : info.Env().Null();
  });
}
Napi::Value BatchWrap::soft_labels(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& b = handle();
    if (!b->soft_indices.defined()) return info.Env().Null();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("classes", tensor_to_js(info.Env(), b->soft_indices));
    out.Set("values", tensor_to_js(info.Env(), b->soft_values));
    if (b->soft_logits.defined()) out.Set("logits", tensor_to_js(info.Env(), b->soft_logits));
    return out;
  });
}
Napi::Value BatchWrap::dispose(const Napi::CallbackInfo& info) {
  batch_.reset();
  live_.release();
  return info.Env().Undefined();
}

// ---- Loader ----

void LoaderWrap::define(Napi::Env env, Napi::Object exports) {
  exports.Set("Loader",
              DefineClass(env, "Loader",
                          {InstanceMethod("info", &LoaderWrap::info), InstanceMethod("startEpoch", &LoaderWrap::start_epoch),
                           InstanceMethod("next", &LoaderWrap::next), InstanceMethod("skipped", &LoaderWrap::skipped),
                           InstanceMethod("dispose", &LoaderWrap::dispose)}));
}

LoaderWrap::LoaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LoaderWrap>(info) {
  guarded(info.Env(), [&] {
    DatasetRef dataset = DatasetWrap::unwrap(info[0], "dataset");
    Options o(info[1], "loader");
    data::LoaderOptions options;
    options.batch_size = o.integer("batchSize", 128);
    options.shuffle = o.boolean("shuffle", true);
    options.drop_last = o.boolean("dropLast", false);
    options.seed = static_cast<uint64_t>(o.integer("seed", 0));
    options.pad = o.integer("pad", 0);
    options.flip = o.boolean("flip", false);
    const int64_t workers = o.integer("workers", 0), prefetch = o.integer("prefetch", 4);
    check_limit(Limit::Threads, workers, "loader workers");
    check_limit(Limit::Prefetch, prefetch, "loader prefetch");
    options.workers = static_cast<int>(workers);
    options.prefetch = static_cast<int>(prefetch);
    options.mean = o.floats("mean", {0.0f});
    options.std = o.floats("std", {1.0f});
    options.subset = o.integers("subset");
    options.rank = o.integer("rank", 0);
    options.world_size = o.integer("worldSize", 1);
    options.skip_bad = o.boolean("skipBadFiles", false);
    options.pin_memory = o.boolean("pinMemory", false);
    options.channels_last = o.boolean("channelsLast", false);
    loader_ = dataset.memory
                  ? std::make_shared<Handle>(std::move(dataset.memory), options)
                  : std::make_shared<Handle>(std::shared_ptr<const data::SampleSource>(std::move(dataset.files)), options);
    live_ = LiveHandle(info.Env(), HandleKind::Loader);
  });
}

const std::shared_ptr<LoaderWrap::Handle>& LoaderWrap::handle() const {
  if (!loader_) fail(ErrorCode::Disposed, "this Loader was disposed");
  return loader_;
}

Napi::Value LoaderWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& h = handle();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("batchesPerEpoch", Napi::Number::New(env, static_cast<double>(h->loader.batches_per_epoch())));
    out.Set("samplesPerEpoch", Napi::Number::New(env, static_cast<double>(h->loader.samples_per_epoch())));
    return out;
  });
}

Napi::Value LoaderWrap::start_epoch(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Handle> h = handle();
    Options o(info[0], "startEpoch");
    const int64_t epoch = o.integer("epoch", 0);
    return run_async<bool>(
        info.Env(),
        [h, epoch] {
          std::lock_guard<std::mutex> lock(h->mutex);
          h->loader.start_epoch(epoch);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, Executor::Pool);
  });
}

Napi::Value LoaderWrap::next(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<Handle> h = handle();
    return run_async<std::shared_ptr<const data::Batch>>(
        info.Env(),
        [h]() -> std::shared_ptr<const data::Batch> {
          std::lock_guard<std::mutex> lock(h->mutex);
          std::optional<data::Batch> batch = h->loader.next();
          return batch ? std::make_shared<const data::Batch>(std::move(*batch)) : nullptr;
        },
        [](Napi::Env env, std::shared_ptr<const data::Batch>& batch) -> Napi::Value {
          return batch ? Napi::Value(BatchWrap::wrap(env, batch)) : env.Null();
        },
        Executor::Pool);
  });
}

Napi::Value LoaderWrap::skipped(const Napi::CallbackInfo& info) {
  return guarded(info.Env(),
                 [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(handle()->loader.skipped())); });
}

Napi::Value LoaderWrap::dispose(const Napi::CallbackInfo& info) {
  loader_.reset();
  live_.release();
  return info.Env().Undefined();
}

}  // namespace distillery::addon

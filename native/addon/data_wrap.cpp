#include "addon/data_wrap.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/instance.h"
#include "core/error.h"
#include "data/idx.h"

namespace distillery::addon {

namespace {
bool is_instance(Napi::Value value, const Napi::FunctionReference& ctor) {
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(ctor.Value());
}
}  // namespace

// ---- Dataset ----

void DatasetWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Dataset",
                                    {InstanceMethod("info", &DatasetWrap::info), InstanceMethod("labels", &DatasetWrap::labels),
                                     InstanceMethod("withLabels", &DatasetWrap::with_labels),
                                     InstanceMethod("dispose", &DatasetWrap::dispose)});
  instance(env).dataset_class = Napi::Persistent(ctor);
  exports.Set("Dataset", ctor);
}

Napi::Object DatasetWrap::wrap(Napi::Env env, std::shared_ptr<const data::ImageDataset> dataset) {
  Napi::Object object = instance(env).dataset_class.New({});
  Unwrap(object)->dataset_ = std::move(dataset);
  return object;
}

std::shared_ptr<const data::ImageDataset> DatasetWrap::unwrap(Napi::Value value, const std::string& name) {
  if (!is_instance(value, instance(value.Env()).dataset_class)) fail(ErrorCode::InvalidArgument, name, " must be a Dataset");
  const auto& dataset = Unwrap(value.As<Napi::Object>())->dataset_;
  if (!dataset) fail(ErrorCode::Disposed, name, ": this Dataset was disposed (or not made by loadIdx)");
  return dataset;
}

DatasetWrap::DatasetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DatasetWrap>(info) {}

Napi::Value DatasetWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto dataset = unwrap(Value(), "this");
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", dataset->name);
    out.Set("size", Napi::Number::New(env, static_cast<double>(dataset->size())));
    out.Set("numClasses", Napi::Number::New(env, static_cast<double>(dataset->num_classes)));
    Napi::Array shape = Napi::Array::New(env, 3);
    for (uint32_t i = 0; i < 3; ++i) shape.Set(i, Napi::Number::New(env, static_cast<double>(dataset->images.size(i + 1))));
    out.Set("shape", shape);
    return out;
  });
}

Napi::Value DatasetWrap::labels(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return tensor_to_js(info.Env(), unwrap(Value(), "this")->labels); });
}

Napi::Value DatasetWrap::with_labels(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto dataset = unwrap(Value(), "this");
    const torch::Tensor labels = tensor_from_js(info[0], "labels").to(torch::kLong).contiguous();
    if (labels.dim() != 1 || labels.size(0) != dataset->size()) {
      fail(ErrorCode::Shape, "labels must be [", dataset->size(), "] (one per sample of ", dataset->name, "), got ", labels.sizes());
    }
    if (labels.numel() && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= dataset->num_classes)) {
      fail(ErrorCode::InvalidArgument, "labels must lie in [0, ", dataset->num_classes, "), got values from ",
           labels.min().item<int64_t>(), " to ", labels.max().item<int64_t>());
    }
    // The images are shared, not copied: a relabelled view costs only its labels.
    auto relabelled = std::make_shared<data::ImageDataset>(*dataset);
    relabelled->labels = labels;
    return DatasetWrap::wrap(info.Env(), std::move(relabelled));
  });
}

Napi::Value DatasetWrap::dispose(const Napi::CallbackInfo& info) {
  dataset_.reset();
  return info.Env().Undefined();
}

Napi::Value load_idx(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string dir = string_arg(info, 0, "dir");
    const std::string split = string_arg(info, 1, "split");
    return run_async<std::shared_ptr<const data::ImageDataset>>(
        info.Env(), [dir, split] { return std::make_shared<const data::ImageDataset>(data::load_idx_split(dir, split)); },
        [](Napi::Env env, std::shared_ptr<const data::ImageDataset>& dataset) -> Napi::Value {
          return DatasetWrap::wrap(env, dataset);
        },
        Executor::Pool);
  });
}

// ---- Batch ----

void BatchWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Batch",
                                    {InstanceMethod("size", &BatchWrap::size), InstanceMethod("images", &BatchWrap::images),
                                     InstanceMethod("labels", &BatchWrap::labels), InstanceMethod("indices", &BatchWrap::indices),
                                     InstanceMethod("dispose", &BatchWrap::dispose)});
  instance(env).batch_class = Napi::Persistent(ctor);
  exports.Set("Batch", ctor);
}

Napi::Object BatchWrap::wrap(Napi::Env env, std::shared_ptr<const data::Batch> batch) {
  Napi::Object object = instance(env).batch_class.New({});
  Unwrap(object)->batch_ = std::move(batch);
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
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(handle()->size())); });
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
Napi::Value BatchWrap::dispose(const Napi::CallbackInfo& info) {
  batch_.reset();
  return info.Env().Undefined();
}

// ---- Loader ----

void LoaderWrap::define(Napi::Env env, Napi::Object exports) {
  exports.Set("Loader", DefineClass(env, "Loader",
                                    {InstanceMethod("info", &LoaderWrap::info), InstanceMethod("startEpoch", &LoaderWrap::start_epoch),
                                     InstanceMethod("next", &LoaderWrap::next), InstanceMethod("dispose", &LoaderWrap::dispose)}));
}

LoaderWrap::LoaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LoaderWrap>(info) {
  guarded(info.Env(), [&] {
    auto dataset = DatasetWrap::unwrap(info[0], "dataset");
    Options o(info[1], "loader");
    data::LoaderOptions options;
    options.batch_size = o.integer("batchSize", 128);
    options.shuffle = o.boolean("shuffle", true);
    options.drop_last = o.boolean("dropLast", false);
    options.seed = static_cast<uint64_t>(o.integer("seed", 0));
    options.pad = o.integer("pad", 0);
    options.flip = o.boolean("flip", false);
    options.workers = static_cast<int>(o.integer("workers", 0));
    options.prefetch = static_cast<int>(o.integer("prefetch", 4));
    options.mean = o.floats("mean", {0.0f});
    options.std = o.floats("std", {1.0f});
    options.subset = o.integers("subset");
    options.rank = o.integer("rank", 0);
    options.world_size = o.integer("worldSize", 1);
    loader_ = std::make_shared<Handle>(std::move(dataset), options);
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

Napi::Value LoaderWrap::dispose(const Napi::CallbackInfo& info) {
  loader_.reset();
  return info.Env().Undefined();
}

}  // namespace distillery::addon

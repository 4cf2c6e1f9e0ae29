#include "addon/soft_label_writer_wrap.h"

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/data_wrap.h"
#include "addon/instance.h"
#include "addon/trainer_wrap.h"
#include "core/error.h"
#include "train/evaluate.h"

namespace distillery::addon {

namespace {
using WriterPtr = std::shared_ptr<data::SoftLabelCacheWriter>;

/** openSoftLabelWriter(path, header, resume): Promise<SoftLabelWriter>, opened on the libuv pool. */
Napi::Value open_soft_label_writer(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "path");
    const nlohmann::json header = json_from_js(info[1], "header");
    const bool resume = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    return run_async<WriterPtr>(
        info.Env(), [path, header, resume] { return std::make_shared<data::SoftLabelCacheWriter>(path, header, resume); },
        [](Napi::Env env, WriterPtr& writer) -> Napi::Value {
          return instance(env).soft_label_writer_class.New({Napi::External<WriterPtr>::New(env, &writer)});
        },
        Executor::Pool);
  });
}
}  // namespace

void SoftLabelWriterWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor =
      DefineClass(env, "SoftLabelWriter",
                  {InstanceMethod("resumed", &SoftLabelWriterWrap::resumed), InstanceMethod("write", &SoftLabelWriterWrap::write),
                   InstanceMethod("sync", &SoftLabelWriterWrap::sync), InstanceMethod("close", &SoftLabelWriterWrap::close),
                   InstanceMethod("dispose", &SoftLabelWriterWrap::dispose)});
  instance(env).soft_label_writer_class = Napi::Persistent(ctor);
  exports.Set("SoftLabelWriter", ctor);
  exports.Set("openSoftLabelWriter", Napi::Function::New(env, open_soft_label_writer, "openSoftLabelWriter"));
}

SoftLabelWriterWrap::SoftLabelWriterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SoftLabelWriterWrap>(info) {
  guarded(info.Env(), [&] {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      fail(ErrorCode::InvalidArgument, "soft-label writers are made by openSoftLabelWriter(path, header, resume)");
    }
    writer_ = std::move(*info[0].As<Napi::External<WriterPtr>>().Data());
    live_ = LiveHandle(info.Env(), HandleKind::SoftLabelWriter);
  });
}

const std::shared_ptr<data::SoftLabelCacheWriter>& SoftLabelWriterWrap::handle() const {
  if (!writer_) fail(ErrorCode::Disposed, "this SoftLabelWriter was disposed");
  return writer_;
}

Napi::Value SoftLabelWriterWrap::resumed(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), handle()->resumed()); });
}

Napi::Value SoftLabelWriterWrap::write(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    WriterPtr writer = handle();
    if (!info[0].IsNumber()) fail(ErrorCode::InvalidArgument, "pass must be a number");
    const int64_t pass = info[0].As<Napi::Number>().Int64Value();
    std::vector<train::ModelPtr> teachers = model_list(info[1], "teachers");
    std::shared_ptr<const data::Batch> batch = BatchWrap::unwrap(info[2], "batch");
    const Options o(info[3], "options");
    const double temperature = o.number("temperature", 1.0);
    const int64_t top_k = writer->layout().top_k;
    if (!batch->crops.defined())
      fail(ErrorCode::InvalidArgument, "batch holds no crop boxes: cache batches of an image folder's training split");
    return run_async<bool>(
        info.Env(),
        [writer, pass, teachers, batch, temperature, top_k] {
          const train::SoftTargets t = train::soft_targets(teachers, *batch, temperature, top_k);
          writer->write(pass,
                        {batch->indices, batch->crops, t.classes, t.values, t.mean_logits, t.teacher_classes, t.teacher_values});
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value SoftLabelWriterWrap::sync(const Napi::CallbackInfo& info) { return on_pool(info, &data::SoftLabelCacheWriter::sync); }

Napi::Value SoftLabelWriterWrap::close(const Napi::CallbackInfo& info) {
  return on_pool(info, &data::SoftLabelCacheWriter::close);
}

Napi::Value SoftLabelWriterWrap::on_pool(const Napi::CallbackInfo& info, void (data::SoftLabelCacheWriter::*operation)()) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    WriterPtr writer = handle();
    return run_async<bool>(
        info.Env(),
        [writer, operation] {
          ((*writer).*operation)();
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, Executor::Pool);
  });
}

Napi::Value SoftLabelWriterWrap::dispose(const Napi::CallbackInfo& info) {
  // An unfinished cache stays on disk to resume; in-flight writes hold their own reference.
  writer_.reset();
  live_.release();
  return info.Env().Undefined();
}

}  // namespace distillery::addon

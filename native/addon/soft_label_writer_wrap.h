#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "addon/live_handles.h"
#include "data/soft_label_cache.h"

namespace distillery::addon {

/** JS class SoftLabelWriter: a soft-label cache being written, made by openSoftLabelWriter. The record
 *  layout lives in native/data/soft_label_cache.* only; JavaScript hands over teachers and batches. */
class SoftLabelWriterWrap : public Napi::ObjectWrap<SoftLabelWriterWrap> {
 public:
  /** Registers the SoftLabelWriter class and openSoftLabelWriter. */
  static void define(Napi::Env env, Napi::Object exports);
  explicit SoftLabelWriterWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<data::SoftLabelCacheWriter>& handle() const;
  Napi::Value resumed(const Napi::CallbackInfo& info);
  Napi::Value write(const Napi::CallbackInfo& info);
  Napi::Value sync(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);
  /** Runs a file operation of the writer (sync, close) on the libuv pool. */
  Napi::Value on_pool(const Napi::CallbackInfo& info, void (data::SoftLabelCacheWriter::*operation)());
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<data::SoftLabelCacheWriter> writer_;
  LiveHandle live_;
};

}  // namespace distillery::addon

#include "addon/live_handles.h"

#include "addon/instance.h"

namespace distillery::addon {

namespace {
constexpr const char* kNames[] = {"Model",   "Dataset",   "Batch",        "Loader",
                                  "Trainer", "Objective", "ProcessGroup", "SoftLabelWriter"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(HandleKind::Count));

Napi::Value live_handles(const Napi::CallbackInfo& info) {
  const LiveCounts& live = *instance(info.Env()).live;
  Napi::Object out = Napi::Object::New(info.Env());
  for (size_t i = 0; i < live.counts.size(); ++i)
    out.Set(kNames[i], Napi::Number::New(info.Env(), static_cast<double>(live.counts[i].load())));
  return out;
}
}  // namespace

LiveHandle::LiveHandle(Napi::Env env, HandleKind kind) : counts_(instance(env).live), kind_(kind) {
  counts_->counts[static_cast<size_t>(kind_)].fetch_add(1);
}

LiveHandle& LiveHandle::operator=(LiveHandle&& other) noexcept {
  if (this != &other) {
    release();
    counts_ = std::move(other.counts_);
    kind_ = other.kind_;
  }
  return *this;
}

void LiveHandle::release() {
  if (!counts_) return;
  counts_->counts[static_cast<size_t>(kind_)].fetch_sub(1);
  counts_.reset();
}

void define_live_handles(Napi::Env env, Napi::Object exports) {
  exports.Set("liveHandles", Napi::Function::New(env, live_handles, "liveHandles"));
}

}  // namespace distillery::addon

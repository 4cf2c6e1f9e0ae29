#include "addon/distributed_wrap.h"

#include <chrono>
#include <cstring>

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/instance.h"
#include "core/error.h"
#include "core/runtime.h"

namespace distillery::addon {

void ProcessGroupWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor =
      DefineClass(env, "ProcessGroup",
                  {InstanceMethod("info", &ProcessGroupWrap::info), InstanceMethod("allReduce", &ProcessGroupWrap::all_reduce),
                   InstanceMethod("barrier", &ProcessGroupWrap::barrier), InstanceMethod("dispose", &ProcessGroupWrap::dispose)});
  instance(env).process_group_class = Napi::Persistent(ctor);
  exports.Set("createProcessGroup", Napi::Function::New(env, create_process_group, "createProcessGroup"));
  exports.Set("distributedBackends", Napi::Function::New(
                                         env,
                                         [](const Napi::CallbackInfo& info) -> Napi::Value {
                                           Napi::Array out = Napi::Array::New(info.Env());
                                           uint32_t n = 0;
                                           for (const char* backend : {"gloo", "nccl"}) {
                                             if (distributed::ProcessGroup::supports(backend)) out.Set(n++, backend);
                                           }
                                           return out;
                                         },
                                         "distributedBackends"));
}

// Empty until create_process_group hands it the joined group.
ProcessGroupWrap::ProcessGroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupWrap>(info) {}

std::shared_ptr<distributed::ProcessGroup> ProcessGroupWrap::unwrap(Napi::Value value, const std::string& name) {
  const Napi::FunctionReference& ctor = instance(value.Env()).process_group_class;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor.Value())) {
    fail(ErrorCode::InvalidArgument, name, " must be a ProcessGroup");
  }
  return Unwrap(value.As<Napi::Object>())->handle();
}

const std::shared_ptr<distributed::ProcessGroup>& ProcessGroupWrap::handle() const {
  if (!group_) fail(ErrorCode::Disposed, "this ProcessGroup was disposed (or not made by createProcessGroup)");
  return group_;
}

Napi::Value ProcessGroupWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& group = handle();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("rank", Napi::Number::New(info.Env(), static_cast<double>(group->rank())));
    out.Set("worldSize", Napi::Number::New(info.Env(), static_cast<double>(group->size())));
    out.Set("backend", group->backend());
    return out;
  });
}

Napi::Value ProcessGroupWrap::all_reduce(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<distributed::ProcessGroup> group = handle();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      fail(ErrorCode::InvalidArgument, "allReduce takes a Float64Array");
    }
    const Napi::Float64Array input = info[0].As<Napi::Float64Array>();
    auto values = std::make_shared<std::vector<double>>(input.Data(), input.Data() + input.ElementLength());
    // On the compute thread, so that it is ordered with the steps' collectives on every rank.
    return run_async<torch::Tensor>(
        info.Env(),
        [group, values] {
          torch::Tensor t = torch::from_blob(values->data(), {static_cast<int64_t>(values->size())}, torch::kDouble).clone();
          group->all_reduce(t);
          return t;
        },
        [](Napi::Env env, torch::Tensor& t) -> Napi::Value {
          Napi::Float64Array out = Napi::Float64Array::New(env, static_cast<size_t>(t.numel()));
          std::memcpy(out.Data(), t.data_ptr<double>(), static_cast<size_t>(t.numel()) * sizeof(double));
          return out;
        });
  });
}

Napi::Value ProcessGroupWrap::barrier(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<distributed::ProcessGroup> group = handle();
    return run_async<bool>(
        info.Env(),
        [group] {
          group->barrier();
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value ProcessGroupWrap::dispose(const Napi::CallbackInfo& info) {
  group_.reset();
  live_.release();
  return info.Env().Undefined();
}

Napi::Value create_process_group(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Options o(info[0], "distributed");
    distributed::GroupOptions options;
    options.backend = o.string("backend", options.backend);
    options.rank = o.integer("rank", -1);
    options.world_size = o.integer("worldSize", 0);
    options.master_addr = o.string("masterAddr", options.master_addr);
    options.master_port = o.integer("masterPort", options.master_port);
    options.timeout = std::chrono::milliseconds(o.integer("timeoutMs", options.timeout.count()));
    options.device = parse_device(o.string("device", "cpu"));
    return run_async<std::shared_ptr<distributed::ProcessGroup>>(
        info.Env(), [options] { return std::make_shared<distributed::ProcessGroup>(options); },
        [](Napi::Env env, std::shared_ptr<distributed::ProcessGroup>& group) -> Napi::Value {
          Napi::Object object = instance(env).process_group_class.New({});
          ProcessGroupWrap* wrap = ProcessGroupWrap::Unwrap(object);
          wrap->group_ = group;
          wrap->live_ = LiveHandle(env, HandleKind::ProcessGroup);
          return object;
        });
  });
}

}  // namespace distillery::addon

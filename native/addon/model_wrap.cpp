#include "addon/model_wrap.h"

#include <unordered_set>

#include "addon/async.h"
#include "addon/convert.h"
#include "addon/instance.h"
#include "core/error.h"
#include "core/runtime.h"
#include "io/module_state.h"
#include "io/safetensors.h"
#include "models/cifar_resnet.h"
#include "models/flops.h"
#include "models/one_net.h"
#include "models/subnet.h"
#include "train/checks.h"

namespace distillery::addon {

namespace {
/** createModel(spec, device): Promise<Model>, built and moved to its device on the compute thread
 *  (a ResNet-50's initialisation and its copy to a GPU take long enough to stall the event loop). */
Napi::Value create_model(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const models::ModelSpec spec = models::spec_from_json(json_from_js(info[0], "model"), "model");
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsString()) {
      fail(ErrorCode::InvalidArgument, "device must be a string such as 'cpu', 'cuda' or 'cuda:1'");
    }
    const torch::Device device =
        parse_device(info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "cpu");
    return run_async<train::ModelPtr>(
        info.Env(),
        [spec, device] {
          models::Net net = models::build_model(spec);
          net->to(device);
          return std::make_shared<train::ModelHandle>(std::move(net), spec, device);
        },
        [](Napi::Env env, train::ModelPtr& model) -> Napi::Value {
          return instance(env).model_class.New({Napi::External<train::ModelPtr>::New(env, &model)});
        });
  });
}
}  // namespace

void ModelWrap::define(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Model",
                                    {
                                        InstanceMethod("info", &ModelWrap::info),
                                        InstanceMethod("forward", &ModelWrap::forward),
                                        InstanceMethod("features", &ModelWrap::features),
                                        InstanceMethod("oneOutputs", &ModelWrap::one_outputs),
                                        InstanceMethod("copyBranch", &ModelWrap::copy_branch),
                                        InstanceMethod("flops", &ModelWrap::flops),
                                        InstanceMethod("toChannelsLast", &ModelWrap::to_channels_last),
                                        InstanceMethod("gateValues", &ModelWrap::gate_values),
                                        InstanceMethod("gateNames", &ModelWrap::gate_names),
                                        InstanceMethod("planSubnet", &ModelWrap::plan_subnet),
                                        InstanceMethod("extractSubnet", &ModelWrap::extract_subnet),
                                        InstanceMethod("stateShapes", &ModelWrap::state_shapes),
                                        InstanceMethod("saveSafetensors", &ModelWrap::save_safetensors),
                                        InstanceMethod("loadSafetensors", &ModelWrap::load_safetensors),
                                        InstanceMethod("dispose", &ModelWrap::dispose),
                                    });
  instance(env).model_class = Napi::Persistent(ctor);
  exports.Set("Model", ctor);
  exports.Set("createModel", Napi::Function::New(env, create_model, "createModel"));
}

train::ModelPtr ModelWrap::unwrap(Napi::Value value, const std::string& name) {
  const Napi::FunctionReference& ctor = instance(value.Env()).model_class;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor.Value())) {
    fail(ErrorCode::InvalidArgument, name, " must be a Model");
  }
  return Unwrap(value.As<Napi::Object>())->handle();
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  guarded(info.Env(), [&] {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      fail(ErrorCode::InvalidArgument, "models are made by createModel(spec, device), not new Model()");
    }
    model_ = std::move(*info[0].As<Napi::External<train::ModelPtr>>().Data());
    live_ = LiveHandle(info.Env(), HandleKind::Model);
  });
}

const train::ModelPtr& ModelWrap::handle() const {
  if (!model_) fail(ErrorCode::Disposed, "this Model was disposed");
  return model_;
}

Napi::Value ModelWrap::info(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& m = handle();
    Napi::Env env = info.Env();
    nlohmann::json out = models::spec_to_json(m->spec);
    out["device"] = m->device.str();
    out["parameters"] = models::count_parameters(*m->net);
    out["featureNames"] = m->net->feature_names();
    out["outputNames"] = m->net->output_names();
    return json_to_js(env, out);
  });
}

Napi::Value ModelWrap::forward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    torch::Tensor input = tensor_from_js(info[0], "input");
    train::check_input(input, *m);
    const bool training = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    return run_async<torch::Tensor>(
        info.Env(),
        [m, input, training] {
          train::ModelLocks lock({m.get()});
          torch::NoGradGuard no_grad;
          m->net->train(training);
          return m->net->forward(input.to(m->device, torch::kFloat)).cpu();
        },
        [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return tensor_to_js(env, out); });
  });
}

Napi::Value ModelWrap::features(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    torch::Tensor input = tensor_from_js(info[0], "input");
    return run_async<std::vector<torch::Tensor>>(
        info.Env(),
        [m, input] {
          train::ModelLocks lock({m.get()});
          torch::NoGradGuard no_grad;
          m->net->eval();
          std::vector<torch::Tensor> out;
          for (const auto& t : m->net->features(input.to(m->device, torch::kFloat))) out.push_back(t.cpu());
          return out;
        },
        [](Napi::Env env, std::vector<torch::Tensor>& out) -> Napi::Value {
          Napi::Array array = Napi::Array::New(env, out.size());
          for (size_t i = 0; i < out.size(); ++i) array.Set(static_cast<uint32_t>(i), tensor_to_js(env, out[i]));
          return array;
        });
  });
}

namespace {
models::OneNetImpl& one_net(const train::ModelPtr& m) {
  auto* one = dynamic_cast<models::OneNetImpl*>(m->net.get());
  if (one == nullptr) fail(ErrorCode::InvalidArgument, "this ", m->spec.arch, " is a plain network, not a ONE multi-branch one");
  return *one;
}
}  // namespace

Napi::Value ModelWrap::one_outputs(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    one_net(m);
    torch::Tensor input = tensor_from_js(info[0], "input");
    const bool training = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    return run_async<models::OneOutputs>(
        info.Env(),
        [m, input, training] {
          train::ModelLocks lock({m.get()});
          torch::NoGradGuard no_grad;
          models::OneNetImpl& one = one_net(m);
          one.train(training);
          models::OneOutputs out = one.run(input.to(m->device, torch::kFloat));
          for (auto& z : out.branches) z = z.cpu();
          out.gate = out.gate.cpu();
          out.ensemble = out.ensemble.cpu();
          return out;
        },
        [](Napi::Env env, models::OneOutputs& out) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          Napi::Array branches = Napi::Array::New(env, out.branches.size());
          for (size_t i = 0; i < out.branches.size(); ++i)
            branches.Set(static_cast<uint32_t>(i), tensor_to_js(env, out.branches[i]));
          result.Set("branches", branches);
          result.Set("gate", tensor_to_js(env, out.gate));
          result.Set("ensemble", tensor_to_js(env, out.ensemble));
          return result;
        });
  });
}

Napi::Value ModelWrap::copy_branch(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    one_net(m);
    if (!info[0].IsNumber()) fail(ErrorCode::InvalidArgument, "branch must be a number");
    const int64_t branch = info[0].As<Napi::Number>().Int64Value();
    train::ModelPtr target = unwrap(info[1], "target");
    if (target == m) fail(ErrorCode::InvalidArgument, "a branch cannot be copied into its own network");
    if (branch < 1) fail(ErrorCode::InvalidArgument, "branches are numbered from 1, got ", branch);
    return run_async<bool>(
        info.Env(),
        [m, target, branch] {
          train::ModelLocks lock({m.get(), target.get()});
          one_net(m).copy_branch(static_cast<size_t>(branch - 1), *target->net);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value ModelWrap::flops(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    Options o(info[0], "flops");
    const std::vector<int64_t> chw = o.integers("inputShape");
    return run_async<int64_t>(
        info.Env(),
        [m, chw] {
          train::ModelLocks lock({m.get()});
          return models::count_flops(*m->net, chw);
        },
        [](Napi::Env env, int64_t& macs) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(macs)); });
  });
}

Napi::Value ModelWrap::to_channels_last(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    return run_async<bool>(
        info.Env(),
        [m] {
          train::ModelLocks lock({m.get()});
          torch::NoGradGuard no_grad;
          // set_data keeps each parameter the same tensor object (optimizers, hooks still hold it) with NHWC storage.
          for (auto& p : m->net->parameters(true)) {
            if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
          }
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value ModelWrap::gate_values(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& m = handle();
    train::ModelLocks lock({m.get()});
    const std::vector<double> values = models::gate_values(*m->net);
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), values.size());
    std::copy(values.begin(), values.end(), out.Data());
    return out;
  });
}

Napi::Value ModelWrap::gate_names(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& m = handle();
    train::ModelLocks lock({m.get()});
    std::vector<std::string> names;
    for (const auto& p : m->net->named_parameters()) {
      if (models::is_gate(p.key())) names.push_back(p.key());
    }
    Napi::Array out = Napi::Array::New(info.Env(), names.size());
    for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
    return out;
  });
}

Napi::Value ModelWrap::plan_subnet(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& m = handle();
    if (!info[0].IsNumber()) fail(ErrorCode::InvalidArgument, "threshold must be a number");
    train::ModelLocks lock({m.get()});
    const models::SubnetPlan plan = models::plan_subnet(*m->net, info[0].As<Napi::Number>().DoubleValue());
    Napi::Env env = info.Env();
    return json_to_js(env, nlohmann::json{{"blocks", plan.blocks}, {"source", plan.source}});
  });
}

Napi::Value ModelWrap::extract_subnet(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    if (!info[0].IsNumber()) fail(ErrorCode::InvalidArgument, "threshold must be a number");
    const double threshold = info[0].As<Napi::Number>().DoubleValue();
    train::ModelPtr target = unwrap(info[1], "target");
    if (target == m) fail(ErrorCode::InvalidArgument, "a subnetwork cannot be extracted into its own network");
    return run_async<bool>(
        info.Env(),
        [m, target, threshold] {
          train::ModelLocks lock({m.get(), target.get()});
          models::extract_subnet(*m->net, models::plan_subnet(*m->net, threshold), *target->net);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value ModelWrap::state_shapes(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const auto& m = handle();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    for (const auto& [name, tensor] : io::module_state(*m->net)) {
      Napi::Array shape = Napi::Array::New(env, tensor.dim());
      for (int64_t i = 0; i < tensor.dim(); ++i)
        shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(tensor.size(i))));
      out.Set(name, shape);
    }
    return out;
  });
}

Napi::Value ModelWrap::save_safetensors(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    const std::string path = string_arg(info, 0, "path");
    Options options(info[1], "options");
    const std::string prefix = options.string("prefix", "");
    const auto metadata = string_map_from_js(options.value("metadata"), "options.metadata");
    return run_async<bool>(
        info.Env(),
        [m, path, prefix, metadata] {
          train::ModelLocks lock({m.get()});
          io::write_safetensors(path, io::module_state(*m->net, prefix), io::Metadata(metadata.begin(), metadata.end()));
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value ModelWrap::load_safetensors(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    train::ModelPtr m = handle();
    const std::string path = string_arg(info, 0, "path");
    Options options(info[1], "options");
    const std::string prefix = options.string("prefix", "");
    const bool strict = options.boolean("strict", true);
    std::unordered_set<std::string> optional;
    if (options.has("optional")) {
      const Napi::Value names = options.value("optional");
      if (!names.IsArray()) fail(ErrorCode::InvalidArgument, "options.optional must be an array of tensor names");
      const Napi::Array array = names.As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); ++i) {
        if (!array.Get(i).IsString()) fail(ErrorCode::InvalidArgument, "options.optional[", i, "] must be a string");
        optional.insert(array.Get(i).As<Napi::String>().Utf8Value());
      }
    }
    return run_async<std::map<std::string, std::string>>(
        info.Env(),
        [m, path, prefix, strict, optional] {
          io::SafetensorsFile file = io::read_safetensors(path);
          train::ModelLocks lock({m.get()});
          io::load_module_state(*m->net, file.tensors, prefix, strict, optional);
          return std::map<std::string, std::string>(file.metadata.begin(), file.metadata.end());
        },
        [](Napi::Env env, std::map<std::string, std::string>& metadata) -> Napi::Value {
          return string_map_to_js(env, metadata);
        });
  });
}

Napi::Value ModelWrap::dispose(const Napi::CallbackInfo& info) {
  // In-flight workers hold their own reference, so the network lives until they finish.
  model_.reset();
  live_.release();
  return info.Env().Undefined();
}

}  // namespace distillery::addon

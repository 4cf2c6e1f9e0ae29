// The addon's entry point: registers every class and function. Only native/addon speaks Node-API.
#include <napi.h>

#include "addon/data_wrap.h"
#include "addon/distributed_wrap.h"
#include "addon/evaluate_bindings.h"
#include "addon/io_bindings.h"
#include "addon/live_handles.h"
#include "addon/loss_bindings.h"
#include "addon/model_wrap.h"
#include "addon/objective_wrap.h"
#include "addon/runtime_bindings.h"
#include "addon/soft_label_writer_wrap.h"
#include "addon/trainer_wrap.h"
#include "core/runtime.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // LibTorch's own default here is one thread; users expect all cores unless they say otherwise.
  distillery::set_thread_count(0);
  // The JS thread converts tensors for JS; it must not start an OpenMP team (see runtime.h).
  distillery::keep_thread_serial();
  distillery::addon::define_runtime(env, exports);
  distillery::addon::ModelWrap::define(env, exports);
  distillery::addon::DatasetWrap::define(env, exports);
  distillery::addon::BatchWrap::define(env, exports);
  distillery::addon::LoaderWrap::define(env, exports);
  distillery::addon::TrainerWrap::define(env, exports);
  distillery::addon::ObjectiveWrap::define(env, exports);
  distillery::addon::define_evaluate(env, exports);
  distillery::addon::define_losses(env, exports);
  distillery::addon::define_live_handles(env, exports);
  distillery::addon::ProcessGroupWrap::define(env, exports);
  distillery::addon::define_io(env, exports);
  distillery::addon::SoftLabelWriterWrap::define(env, exports);
  exports.Set("loadIdx", Napi::Function::New(env, distillery::addon::load_idx, "loadIdx"));
  exports.Set("loadCifar", Napi::Function::New(env, distillery::addon::load_cifar, "loadCifar"));
  exports.Set("openImageFolder", Napi::Function::New(env, distillery::addon::open_image_folder, "openImageFolder"));
  return exports;
}

NODE_API_MODULE(distillery, Init)

#include "addon/instance.h"

namespace distillery::addon {

Instance& instance(Napi::Env env) {
  Instance* data = env.GetInstanceData<Instance>();
  if (data == nullptr) {
    env.SetInstanceData<Instance>(new Instance());  // owned and deleted by the environment
    data = env.GetInstanceData<Instance>();
  }
  return *data;
}

}  // namespace distillery::addon

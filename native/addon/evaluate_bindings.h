#pragma once
// Evaluation exports: evaluate(models[], batch) for a model or averaged ensemble, evaluateOutputs
// (each output of a multi-output model), evaluateMembers (each model and their ensemble),
// softTargets (top-k soft labels for a cache) and predict (the averaged softmax).
#include <napi.h>

namespace distillery::addon {

void define_evaluate(Napi::Env env, Napi::Object exports);

}  // namespace distillery::addon

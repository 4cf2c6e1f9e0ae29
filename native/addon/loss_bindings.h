#pragma once
// The losses on host tensors, for checking them against a reference: kdLoss, oneLoss (with
// gradients), MEAL's alignBlock, similarityLoss and discriminatorLoss.
#include <napi.h>

namespace distillery::addon {

void define_losses(Napi::Env env, Napi::Object exports);

}  // namespace distillery::addon

#pragma once
#include <napi.h>

#include <memory>

#include "train/meal.h"

namespace distillery::addon {

/** JS class Meal: MEAL/MEAL V2 steps for a Trainer's student against a fixed list of teachers. */
class MealWrap : public Napi::ObjectWrap<MealWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  explicit MealWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<train::MealDistiller>& handle() const;
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value step(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<train::MealDistiller> distiller_;
};

/** alignBlock(block, {length, pooling}): the aligned (N, L) block as a host tensor. */
Napi::Value align_block(const Napi::CallbackInfo& info);
/** similarityLoss(student, teachers[], {similarity, temperature}): the loss value. */
Napi::Value similarity_loss(const Napi::CallbackInfo& info);
/** discriminatorLoss(student, teacher, weights, options): {discriminator, generator} for given weights. */
Napi::Value discriminator_loss(const Napi::CallbackInfo& info);

}  // namespace distillery::addon

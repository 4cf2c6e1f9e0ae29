#pragma once
#include <napi.h>

#include <memory>

#include "train/trainer.h"

namespace distillery::addon {

/** JS class Trainer: a student with its optimizer, stepped by fused async calls. */
class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  explicit TrainerWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<train::Trainer>& handle() const;
  Napi::Value step(const Napi::CallbackInfo& info);
  Napi::Value save_checkpoint(const Napi::CallbackInfo& info);
  Napi::Value load_checkpoint(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<train::Trainer> trainer_;
};

/** evaluate(models[], batch): Promise<{lossSum, top1, top5, count}>. */
Napi::Value evaluate(const Napi::CallbackInfo& info);
/** kdLoss(student, teachers[], labels, options): {total, ce, kd} on host tensors. */
Napi::Value kd_loss(const Napi::CallbackInfo& info);

}  // namespace distillery::addon

#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace distillery::addon {

/** JS class Trainer: a student with its optimizer, stepped by fused async calls. */
class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  /** The trainer behind a JS Trainer argument (E_ARGUMENT if it is not one, E_DISPOSED if disposed). */
  static std::shared_ptr<train::Trainer> unwrap(Napi::Value value, const std::string& name);
  explicit TrainerWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<train::Trainer>& handle() const;
  Napi::Value step(const Napi::CallbackInfo& info);
  Napi::Value save_checkpoint(const Napi::CallbackInfo& info);
  Napi::Value load_checkpoint(const Napi::CallbackInfo& info);
  Napi::Value distribute(const Napi::CallbackInfo& info);
  Napi::Value set_precision(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<train::Trainer> trainer_;
};

/** The Models of a JS array (errors name `name`[i]). */
std::vector<train::ModelPtr> model_list(Napi::Value value, const std::string& name);
/** A step's numbers as a plain JS object. */
Napi::Object stats_to_js(Napi::Env env, const train::StepStats& s);

/** evaluate(models[], batch): Promise<{lossSum, top1, top5, count}>. */
Napi::Value evaluate(const Napi::CallbackInfo& info);
/** evaluateOutputs(model, batch): Promise<stats[]>, one per output (ONE: each branch, then the ensemble). */
Napi::Value evaluate_outputs(const Napi::CallbackInfo& info);
/** evaluateMembers(models, batch): [each model..., their averaged-softmax ensemble] stats. */
Napi::Value evaluate_members(const Napi::CallbackInfo& info);
/** softTargets(models[], batch, {temperature, topK}): Promise<{classes, values, halfBits}> [B, topK], {logits, logitHalfBits} [B, K],
 *  {teacherClasses, teacherHalfBits} [T, B, topK]. */
Napi::Value soft_targets(const Napi::CallbackInfo& info);
/** predict(models[], batch): Promise<HostTensor>, the averaged softmax [B, K]. */
Napi::Value predict(const Napi::CallbackInfo& info);
/** kdLoss(student, teachers[], labels, options): {total, ce, kd} on host tensors. */
Napi::Value kd_loss(const Napi::CallbackInfo& info);
/** oneLoss(branches[], ensemble, labels, options): {total, ce, kl, gradBranches[], gradEnsemble} on host tensors. */
Napi::Value one_loss(const Napi::CallbackInfo& info);

}  // namespace distillery::addon

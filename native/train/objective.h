#pragma once
// What a training method is to the trainer: an Objective turns one batch into named, weighted loss
// terms (and says which optimizers step on them). The trainer does everything the methods share:
// locks, batch checks, normalisation, train mode, autocast, loss scaling, the finite-loss check,
// gradient averaging, the optimizer steps and the numbers a step reports.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/settings.h"
#include "data/dataset.h"
#include "train/model_handle.h"
#include "train/optimizer.h"

namespace distillery::train {

class Trainer;

/** One named loss term; the step minimises the sum of weight * value over the terms. */
struct LossTerm {
  std::string name;
  torch::Tensor value;  // a scalar
  double weight = 1.0;
};

/** An optimizer of the objective's own (MEAL's discriminators) and how this step uses it. */
struct ObjectiveOptimizer {
  Optimizer* optimizer = nullptr;
  double lr = 0.0;
  bool step = true;  // false: its gradients are cleared after backward, its weights stay
};

/** What an objective computed on one batch. */
struct ObjectiveLoss {
  std::vector<LossTerm> terms;
  /** The logits train accuracy is counted on (undefined: the step reports no hits). */
  torch::Tensor predictions;
  /** Whether the student's optimizer steps (false: only the objective's own optimizers learn). */
  bool student_steps = true;
  std::vector<ObjectiveOptimizer> optimizers;
};

/** What the trainer hands an objective for one step. */
struct StepContext {
  Trainer& trainer;
  std::shared_ptr<const data::Batch> batch;
  torch::Tensor x;  // normalised images on the student's device
  torch::Tensor y;  // labels on the student's device
  double lr;
  const Settings& args;  // this step's arguments (MEAL's phase and teachers, ONE's ramped weight)

  /** The student's inputs, moved to `model`'s device. */
  torch::Tensor input_for(const ModelHandle& model) const { return x.to(model.device); }
};

/** Everything an objective is built from: the trainer it steps with, the models it reads, its settings. */
struct ObjectiveSetup {
  std::shared_ptr<Trainer> trainer;
  std::vector<ModelPtr> models;  // frozen models (teachers), in the caller's order; may be empty
  Settings settings;
};

class Objective {
 public:
  virtual ~Objective() = default;
  /** The loss terms of one step; runs with the student in train mode and gradients on. */
  virtual ObjectiveLoss compute(StepContext& context) = 0;
  /** The models a step reads besides the student: locked for the step and checked against its batch. */
  virtual std::vector<ModelPtr> models() const { return {}; }
  /** What the objective wants the caller to know after construction (sizes it found), as JSON. */
  virtual nlohmann::json describe() const { return nlohmann::json::object(); }

  /** The trainer this objective was built for (it may have attached state there); set by the registry. */
  const Trainer* owner() const { return owner_; }
  void set_owner(const Trainer* owner) { owner_ = owner; }

 private:
  const Trainer* owner_ = nullptr;
};

}  // namespace distillery::train

#pragma once
// Small pieces several objectives share: how many frozen models an objective accepts, and the
// frozen teachers' logits for a step.
#include <torch/torch.h>

#include <cstddef>
#include <string>
#include <vector>

#include "train/objective.h"

namespace distillery::objectives {

/** E_ARGUMENT unless `setup` holds between `min` and `max` models; `role` names them ("teacher"). */
void require_models(const train::ObjectiveSetup& setup, const std::string& objective, size_t min, size_t max,
                    const std::string& role);

/** Each teacher's float32 logits for the step's batch (eval mode, no gradients), on the student's device. */
std::vector<torch::Tensor> teacher_logits(train::StepContext& context, const std::vector<train::ModelPtr>& teachers);

}  // namespace distillery::objectives

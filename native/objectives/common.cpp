#include "objectives/common.h"

#include "core/error.h"
#include "train/trainer.h"

namespace distillery::objectives {

void require_models(const train::ObjectiveSetup& setup, const std::string& objective, size_t min, size_t max,
                    const std::string& role) {
  const size_t n = setup.models.size();
  if (n >= min && n <= max) return;
  if (max == 0) fail(ErrorCode::InvalidArgument, "the ", objective, " objective reads no ", role, ", got ", n);
  if (min == max)
    fail(ErrorCode::InvalidArgument, "the ", objective, " objective needs exactly ", min, " ", role, "(s), got ", n);
  fail(ErrorCode::InvalidArgument, "the ", objective, " objective needs at least ", min, " ", role, "(s), got ", n);
}

std::vector<torch::Tensor> teacher_logits(train::StepContext& context, const std::vector<train::ModelPtr>& teachers) {
  torch::NoGradGuard no_grad;
  const torch::Device device = context.trainer.student()->device;
  std::vector<torch::Tensor> out;
  for (const auto& t : teachers) {
    t->net->eval();
    out.push_back(context.trainer.forward(*t, context.input_for(*t)).to(device));
  }
  return out;
}

}  // namespace distillery::objectives

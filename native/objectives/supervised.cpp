// Plain supervised training: cross-entropy on the labels (teachers are trained this way).
#include "objectives/common.h"
#include "train/trainer.h"

namespace distillery::objectives {

namespace {
class Supervised : public train::Objective {
 public:
  train::ObjectiveLoss compute(train::StepContext& c) override {
    const torch::Tensor logits = c.trainer.forward(*c.trainer.student(), c.x);
    train::ObjectiveLoss out;
    out.terms.push_back({"ce", torch::nn::functional::cross_entropy(logits, c.y)});
    out.predictions = logits;
    return out;
  }
};
}  // namespace

std::unique_ptr<train::Objective> make_supervised(const train::ObjectiveSetup& setup) {
  require_models(setup, "supervised", 0, 0, "teacher");
  return std::make_unique<Supervised>();
}

}  // namespace distillery::objectives

// Student search: T^2 KL(teacher || gated student) + l1 * sum |gates|. The student (a gated copy
// of the teacher) runs in eval mode, so its BatchNorm keeps the teacher's statistics; only the gates
// learn (every other parameter of the gated network is frozen).
#include "core/error.h"
#include "losses/kd_losses.h"
#include "models/cifar_resnet.h"
#include "objectives/common.h"
#include "train/trainer.h"

namespace distillery::objectives {

namespace {
class Search : public train::Objective {
 public:
  explicit Search(const train::ObjectiveSetup& setup)
      : teacher_(setup.models.front()),
        temperature_(setup.settings.number("temperature", 4.0)),
        l1_(setup.settings.number("l1", 5e-2)) {
    const train::ModelPtr& student = setup.trainer->student();
    for (const auto& p : student->net->named_parameters()) {
      if (models::is_gate(p.key())) gates_.push_back(p.value());
    }
    if (gates_.empty()) {
      fail(ErrorCode::InvalidArgument, "a search step needs the gated network (spec gated: true), got a plain ",
           student->spec.arch);
    }
    if (!(temperature_ > 0)) fail(ErrorCode::InvalidArgument, "search.temperature must be > 0, got ", temperature_);
  }

  std::vector<train::ModelPtr> models() const override { return {teacher_}; }

  train::ObjectiveLoss compute(train::StepContext& c) override {
    const train::ModelPtr& student = c.trainer.student();
    const torch::Tensor target = losses::ensemble_probabilities(teacher_logits(c, {teacher_}), temperature_);
    student->net->eval();
    const torch::Tensor logits = c.trainer.forward(*student, c.x);
    torch::Tensor l1 = torch::zeros({}, logits.options());
    for (const auto& g : gates_) l1 = l1 + g.abs().sum();
    train::ObjectiveLoss out;
    out.terms.push_back({"kl", losses::kd_kl_loss(logits, target, temperature_)});
    out.terms.push_back({"gates", l1, l1_});
    out.predictions = logits;
    return out;
  }

 private:
  train::ModelPtr teacher_;
  double temperature_;
  double l1_;
  std::vector<torch::Tensor> gates_;
};
}  // namespace

std::unique_ptr<train::Objective> make_search(const train::ObjectiveSetup& setup) {
  require_models(setup, "search", 1, 1, "teacher");
  return std::make_unique<Search>(setup);
}

}  // namespace distillery::objectives

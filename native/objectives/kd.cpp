// Hinton KD: ceWeight * CE(labels) + kdWeight * T^2 KL(averaged softened teachers || student). With
// no teacher models the targets are the soft labels the batch replays from a cache (no teacher runs).
#include "core/error.h"
#include "losses/kd_losses.h"
#include "objectives/common.h"
#include "train/trainer.h"

namespace distillery::objectives {

namespace {
class Kd : public train::Objective {
 public:
  explicit Kd(const train::ObjectiveSetup& setup)
      : teachers_(setup.models),
        temperature_(setup.settings.number("temperature", 4.0)),
        ce_weight_(setup.settings.number("ceWeight", 0.1)),
        kd_weight_(setup.settings.number("kdWeight", 0.9)) {
    if (!(temperature_ > 0)) fail(ErrorCode::InvalidArgument, "kd.temperature must be > 0, got ", temperature_);
  }

  std::vector<train::ModelPtr> models() const override { return teachers_; }

  train::ObjectiveLoss compute(train::StepContext& c) override {
    const train::ModelPtr& student = c.trainer.student();
    train::ObjectiveLoss out;
    if (teachers_.empty()) {
      if (!c.batch->soft_indices.defined()) {
        fail(ErrorCode::InvalidArgument,
             "KD without teacher models needs batches that replay soft labels (a dataset opened with a soft-label cache)");
      }
      const torch::Tensor logits = c.trainer.forward(*student, c.x);
      const torch::Tensor target =
          losses::expand_soft_labels(c.batch->soft_indices, c.batch->soft_values, logits.size(1)).to(student->device);
      out.terms.push_back({"ce", torch::nn::functional::cross_entropy(logits, c.y), ce_weight_});
      out.terms.push_back({"kd", losses::kd_kl_loss(logits, target, temperature_), kd_weight_});
      out.predictions = logits;
      return out;
    }
    const std::vector<torch::Tensor> teachers = teacher_logits(c, teachers_);
    const torch::Tensor logits = c.trainer.forward(*student, c.x);
    const losses::KdLoss loss = losses::kd_loss(logits, teachers, c.y, temperature_, ce_weight_, kd_weight_);
    out.terms.push_back({"ce", loss.ce, ce_weight_});
    out.terms.push_back({"kd", loss.kd, kd_weight_});
    out.predictions = logits;
    return out;
  }

 private:
  std::vector<train::ModelPtr> teachers_;
  double temperature_;
  double ce_weight_;
  double kd_weight_;
};
}  // namespace

std::unique_ptr<train::Objective> make_kd(const train::ObjectiveSetup& setup) { return std::make_unique<Kd>(setup); }

}  // namespace distillery::objectives

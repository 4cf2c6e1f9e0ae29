// DKD, Decoupled Knowledge Distillation (Zhao et al., CVPR 2022): KD split into a target-class term
// (TCKD: the binary target / non-target distributions) and a non-target term (NCKD: the distribution
// among the other classes), weighted alpha and beta, plus CE on the labels:
//   L = ceWeight * CE + warmup * (alpha * TCKD + beta * NCKD), both KL terms T^2-scaled, batch mean.
// Several teachers: their softened probabilities are averaged, as Hinton KD does here; with one
// teacher this is the paper's loss exactly. The warmup factor min(epoch / W, 1) is the caller's.
// Defaults are the paper's ImageNet weights, which src/methods/dkd.ts chose by measurement.
#include <cstdint>

#include "core/error.h"
#include "losses/kd_losses.h"
#include "objectives/common.h"
#include "train/trainer.h"

namespace distillery::objectives {

namespace {
// KL(p || q) summed over classes, mean over the batch, with q given as log-probabilities.
torch::Tensor batch_kl(const torch::Tensor& log_q, const torch::Tensor& p) {
  namespace F = torch::nn::functional;
  return F::kl_div(log_q, p, F::KLDivFuncOptions().reduction(torch::kSum)) / static_cast<double>(p.size(0));
}

class Dkd : public train::Objective {
 public:
  explicit Dkd(const train::ObjectiveSetup& setup)
      : teachers_(setup.models),
        temperature_(setup.settings.number("temperature", 1.0)),
        ce_weight_(setup.settings.number("ceWeight", 1.0)),
        alpha_(setup.settings.number("alpha", 0.5)),
        beta_(setup.settings.number("beta", 0.5)) {
    if (!(temperature_ > 0)) fail(ErrorCode::InvalidArgument, "dkd.temperature must be > 0, got ", temperature_);
  }

  std::vector<train::ModelPtr> models() const override { return teachers_; }

  train::ObjectiveLoss compute(train::StepContext& c) override {
    const train::ModelPtr& student = c.trainer.student();
    const double warmup = c.args.number("warmup", 1.0);
    const torch::Tensor p_t = losses::ensemble_probabilities(teacher_logits(c, teachers_), temperature_);
    const torch::Tensor logits = c.trainer.forward(*student, c.x);
    if (!p_t.sizes().equals(logits.sizes())) {
      fail(ErrorCode::Shape, "teacher probabilities are ", p_t.sizes(), " but the student's logits ", logits.sizes());
    }
    const torch::Tensor gt = torch::zeros_like(logits).scatter_(1, c.y.unsqueeze(1), 1.0);
    const torch::Tensor other = 1.0 - gt;
    const double t2 = temperature_ * temperature_;

    // TCKD: binary (target, rest) distributions of teacher and student.
    const torch::Tensor p_s = torch::softmax(logits / temperature_, 1);
    const torch::Tensor b_s = torch::cat({(p_s * gt).sum(1, true), (p_s * other).sum(1, true)}, 1);
    const torch::Tensor b_t = torch::cat({(p_t * gt).sum(1, true), (p_t * other).sum(1, true)}, 1);
    const torch::Tensor tckd = batch_kl(torch::log(b_s), b_t) * t2;

    // NCKD: distributions over the non-target classes, the target's mass removed and renormalised.
    const torch::Tensor nt_t = p_t * other;
    const torch::Tensor q_t = nt_t / nt_t.sum(1, true).clamp_min(1e-12);
    const torch::Tensor log_q_s = torch::log_softmax(logits / temperature_ - 1000.0 * gt, 1);
    const torch::Tensor nckd = batch_kl(log_q_s, q_t) * t2;

    train::ObjectiveLoss out;
    out.terms.push_back({"ce", torch::nn::functional::cross_entropy(logits, c.y), ce_weight_});
    out.terms.push_back({"tckd", tckd, warmup * alpha_});
    out.terms.push_back({"nckd", nckd, warmup * beta_});
    out.predictions = logits;
    return out;
  }

 private:
  std::vector<train::ModelPtr> teachers_;
  double temperature_;
  double ce_weight_;
  double alpha_;
  double beta_;
};
}  // namespace

std::unique_ptr<train::Objective> make_dkd(const train::ObjectiveSetup& setup) {
  require_models(setup, "dkd", 1, SIZE_MAX, "teacher");
  return std::make_unique<Dkd>(setup);
}

}  // namespace distillery::objectives

// ONE (Lan, Zhu, Gong, NeurIPS 2018): CE on every branch and on the gated ensemble, plus
// klWeight * sum T^2 KL(detached ensemble || branch). The ramp-up of klWeight is the caller's
// policy: each step passes the weight for its epoch.
#include "core/error.h"
#include "losses/one_losses.h"
#include "models/one_net.h"
#include "objectives/common.h"
#include "train/trainer.h"

namespace distillery::objectives {

namespace {
class One : public train::Objective {
 public:
  explicit One(const train::ObjectiveSetup& setup) : temperature_(setup.settings.number("temperature", 3.0)) {
    const train::ModelPtr& student = setup.trainer->student();
    if (dynamic_cast<models::OneNetImpl*>(student->net.get()) == nullptr) {
      fail(ErrorCode::InvalidArgument, "method 'one' trains a multi-branch network, but the student is a plain ",
           student->spec.arch, ": build it with branches >= 2 (--branches 3)");
    }
    if (!(temperature_ > 0)) fail(ErrorCode::InvalidArgument, "one.temperature must be > 0, got ", temperature_);
  }

  train::ObjectiveLoss compute(train::StepContext& c) override {
    const train::ModelPtr& student = c.trainer.student();
    auto& net = static_cast<models::OneNetImpl&>(*student->net);
    const double kl_weight = c.args.number("klWeight", 1.0);
    models::OneOutputs outputs = c.trainer.under_scope(*student, [&] { return net.run(c.x); });
    for (auto& branch : outputs.branches) branch = branch.to(torch::kFloat);
    outputs.ensemble = outputs.ensemble.to(torch::kFloat);
    const losses::OneLoss loss = losses::one_loss(outputs.branches, outputs.ensemble, c.y, temperature_, kl_weight);
    train::ObjectiveLoss out;
    out.terms.push_back({"ce", loss.ce});
    out.terms.push_back({"kl", loss.kl, kl_weight});
    // Train accuracy is branch 1's: the network a user deploys.
    out.predictions = outputs.branches.front();
    return out;
  }

 private:
  double temperature_;
};
}  // namespace

std::unique_ptr<train::Objective> make_one(const train::ObjectiveSetup& setup) {
  require_models(setup, "one", 0, 0, "teacher");
  return std::make_unique<One>(setup);
}

}  // namespace distillery::objectives

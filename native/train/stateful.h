#pragma once
// Training state that lives beside the student (MEAL's discriminators and their optimizer) and must
// travel in the same checkpoint, so a resumed run continues exactly where it stopped.
#include <memory>
#include <string>

#include "distributed/gradient_sync.h"
#include "io/safetensors.h"

namespace distillery::train {

class Stateful {
 public:
  virtual ~Stateful() = default;
  /** Every tensor of this state, names starting with `prefix`. */
  virtual io::TensorList state(const std::string& prefix) = 0;
  /** Restores what state() wrote (entries under `prefix`); missing or mis-shaped entries are E_WEIGHTS. */
  virtual void load_state(const io::TensorList& tensors, const std::string& prefix) = 0;
  /** Joins data-parallel training: takes rank 0's weights and averages gradients from now on. */
  virtual void distribute(const std::shared_ptr<distributed::ProcessGroup>& group, const distributed::SyncOptions& options) = 0;
};

}  // namespace distillery::train

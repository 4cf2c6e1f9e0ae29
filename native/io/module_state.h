#pragma once
// A module's weights as a flat list of named tensors (the state_dict of PyTorch), and loading
// such a list back with PyTorch's strictness rules, so checkpoints from either side fit.
#include <torch/torch.h>

#include <string>
#include <unordered_set>

#include "io/safetensors.h"

namespace distillery::io {

/**
 * Every parameter, then every buffer, of `module` and its children, named as PyTorch names them
 * ("layer1.0.conv1.weight") with `prefix` prepended verbatim (pass "student." to get
 * "student.layer1.0.conv1.weight"). The tensors share storage with the module, detached from autograd.
 */
TensorList module_state(const torch::nn::Module& module, const std::string& prefix = "");

/**
 * Copies `state` into `module` in place (converted to each parameter's device and dtype), for the
 * entries whose names start with `prefix`; others belong to someone else and are ignored.
 * Shape mismatches always fail; with `strict`, so do module tensors `state` lacks (except those
 * named, without `prefix`, in `optional`, which keep their values) and prefixed entries the module
 * lacks. All problems are reported together in one E_WEIGHTS error, each mismatch as
 * "name: expected [a, b], got [c, d]", and nothing is copied unless all is well.
 */
void load_module_state(torch::nn::Module& module, const TensorList& state, const std::string& prefix, bool strict,
                       const std::unordered_set<std::string>& optional = {});

}  // namespace distillery::io

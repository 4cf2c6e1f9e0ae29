#include "io/module_state.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error.h"

namespace distillery::io {

namespace {

// Beyond this many names per kind, a listing hides the pattern instead of showing it.
constexpr std::size_t kMaxListed = 20;

// Parameters then buffers, as PyTorch's state_dict orders them. Undefined tensors (an optional
// buffer a module chose not to track) carry no value to save or load.
template <typename Visit>
void for_each_tensor(const torch::nn::Module& module, const std::string& prefix, Visit&& visit) {
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    if (item.value().defined()) visit(prefix + item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    if (item.value().defined()) visit(prefix + item.key(), item.value());
  }
}

std::string format_shape(const torch::Tensor& tensor) {
  if (!tensor.defined()) return "an undefined tensor";
  std::ostringstream out;
  out << '[';
  for (int64_t i = 0; i < tensor.dim(); ++i) out << (i > 0 ? ", " : "") << tensor.size(i);
  out << ']';
  return out.str();
}

void list(std::ostringstream& out, const std::vector<std::string>& items, const char* singular, const char* plural,
          const char* separator) {
  if (items.empty()) return;
  if (out.tellp() > 0) out << "; ";
  out << items.size() << ' ' << (items.size() == 1 ? singular : plural) << " (";
  const std::size_t shown = std::min(items.size(), kMaxListed);
  for (std::size_t i = 0; i < shown; ++i) out << (i > 0 ? separator : "") << items[i];
  if (items.size() > shown) out << separator << "and " << items.size() - shown << " more";
  out << ')';
}

}  // namespace

TensorList module_state(const torch::nn::Module& module, const std::string& prefix) {
  TensorList state;
  for_each_tensor(module, prefix,
                  [&](std::string name, const torch::Tensor& tensor) { state.emplace_back(std::move(name), tensor.detach()); });
  return state;
}

void load_module_state(torch::nn::Module& module, const TensorList& state, const std::string& prefix, bool strict,
                       const std::unordered_set<std::string>& optional) {
  std::vector<std::string> order;
  std::unordered_map<std::string, torch::Tensor> targets;
  for_each_tensor(module, prefix, [&](std::string name, const torch::Tensor& tensor) {
    order.push_back(name);
    targets.emplace(std::move(name), tensor);
  });

  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (module tensor, value)
  std::unordered_set<std::string> found;
  std::vector<std::string> missing, unexpected, mismatched, retyped, non_finite;
  for (const auto& [name, value] : state) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const auto target = targets.find(name);
    if (target == targets.end()) {
      unexpected.push_back(name);
      continue;
    }
    found.insert(name);
    if (!value.defined() || value.sizes() != target->second.sizes()) {
      mismatched.push_back(name + ": expected " + format_shape(target->second) + ", got " + format_shape(value));
    } else if (value.is_floating_point() != target->second.is_floating_point()) {
      // A float parameter read from integers (or a counter from floats) is a damaged or relabelled
      // file; copy_ would convert it without complaint and the network would compute garbage.
      retyped.push_back(name + ": expected " + std::string(c10::toString(target->second.scalar_type())) + ", got " +
                        c10::toString(value.scalar_type()));
    } else if (value.is_floating_point() && !torch::isfinite(value).all().item<bool>()) {
      non_finite.push_back(name);
    } else {
      copies.emplace_back(target->second, value);
    }
  }
  for (const std::string& name : order) {
    if (found.count(name) == 0 && optional.count(name.substr(prefix.size())) == 0) missing.push_back(name);
  }

  if (!mismatched.empty() || !retyped.empty() || !non_finite.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
    std::ostringstream problems;
    if (strict) {
      list(problems, missing, "missing key", "missing keys", ", ");
      list(problems, unexpected, "unexpected key", "unexpected keys", ", ");
    }
    list(problems, mismatched, "shape mismatch", "shape mismatches", "; ");
    list(problems, retyped, "dtype mismatch", "dtype mismatches", "; ");
    list(problems, non_finite, "tensor with NaN or infinite values (saved from a diverged run?)",
         "tensors with NaN or infinite values (saved from a diverged run?)", ", ");
    fail(ErrorCode::Weights, "weights do not fit the module", prefix.empty() ? "" : " (prefix '" + prefix + "')", ": ",
         problems.str());
  }

  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
}

}  // namespace distillery::io

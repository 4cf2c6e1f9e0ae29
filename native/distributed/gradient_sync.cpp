#include "distributed/gradient_sync.h"

#include <map>
#include <mutex>
#include <tuple>

namespace distillery::distributed {

namespace {
struct Slot {
  torch::Tensor param;
  size_t bucket = 0;
  int64_t offset = 0;
  bool ready = false;
};

struct Bucket {
  torch::Tensor flat;
  std::vector<size_t> slots;
  size_t waiting = 0;  // slots whose gradient has not arrived in this backward
  size_t arrived = 0;
  Pending work;
};
}  // namespace

// Shared with the hooks, which may outlive a moved-from GradientSync until they are removed.
struct GradientSync::State {
  std::shared_ptr<ProcessGroup> group;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::vector<unsigned> hook_ids;
  bool armed = false;
  bool unfinished = false;  // prepared, and finish() has not run since
  // Autograd may run hooks of CUDA tensors on its device threads.
  std::mutex mutex;

  void launch(Bucket& bucket) { bucket.work = group->all_reduce_async(bucket.flat); }

  void arrive(size_t index, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    Slot& slot = slots[index];
    Bucket& bucket = buckets[slot.bucket];
    torch::NoGradGuard no_grad;
    torch::Tensor view = bucket.flat.narrow(0, slot.offset, slot.param.numel());
    if (slot.ready) {
      view.add_(grad.reshape(-1));
      return;
    }
    view.copy_(grad.reshape(-1));
    slot.ready = true;
    bucket.arrived += 1;
    if (--bucket.waiting == 0) launch(bucket);
  }

  void drain() {
    for (Bucket& bucket : buckets) {
      if (bucket.work) {
        Pending work = std::move(bucket.work);
        bucket.work = nullptr;
        work();
      }
    }
  }
};

GradientSync::GradientSync(std::shared_ptr<ProcessGroup> group, const std::vector<torch::Tensor>& params,
                           const SyncOptions& options)
    : state_(std::make_shared<State>()) {
  state_->group = std::move(group);
  // Buckets hold one dtype on one device; parameters fill them last-registered first.
  std::map<std::tuple<int, int, int>, size_t> open;  // (dtype, device type, device index) -> open bucket
  std::vector<int64_t> bucket_bytes;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const torch::Tensor& p = *it;
    if (!p.requires_grad()) continue;
    const auto key = std::make_tuple(static_cast<int>(p.scalar_type()), static_cast<int>(p.device().type()),
                                     static_cast<int>(p.device().index()));
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    auto found = open.find(key);
    bool fresh = found == open.end();
    if (!fresh) {
      const size_t b = found->second;
      const int64_t cap = b == 0 ? options.first_bucket_bytes : options.bucket_bytes;
      fresh = bucket_bytes[b] > 0 && bucket_bytes[b] + bytes > cap;
    }
    if (fresh) {
      state_->buckets.emplace_back();
      bucket_bytes.push_back(0);
      open[key] = state_->buckets.size() - 1;
      found = open.find(key);
    }
    const size_t b = found->second;
    Slot slot;
    slot.param = p;
    slot.bucket = b;
    slot.offset = bucket_bytes[b] / static_cast<int64_t>(p.element_size());
    bucket_bytes[b] += bytes;
    state_->buckets[b].slots.push_back(state_->slots.size());
    state_->slots.push_back(std::move(slot));
  }
  for (size_t b = 0; b < state_->buckets.size(); ++b) {
    const Slot& first = state_->slots[state_->buckets[b].slots.front()];
    state_->buckets[b].flat = torch::zeros({bucket_bytes[b] / static_cast<int64_t>(first.param.element_size())},
                                           first.param.options().requires_grad(false));
  }
  std::weak_ptr<State> weak = state_;
  for (size_t i = 0; i < state_->slots.size(); ++i) {
    state_->hook_ids.push_back(state_->slots[i].param.register_hook([weak, i](torch::Tensor grad) {
      if (auto state = weak.lock()) state->arrive(i, grad);
    }));
  }
}

GradientSync::~GradientSync() {
  try {
    state_->drain();
  } catch (...) {
    // A failed reduction was already reported by the step that launched it.
  }
  for (size_t i = 0; i < state_->slots.size(); ++i) state_->slots[i].param.remove_hook(state_->hook_ids[i]);
}

int64_t GradientSync::bucket_count() const { return static_cast<int64_t>(state_->buckets.size()); }

void GradientSync::prepare() {
  state_->drain();
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (Slot& slot : state_->slots) slot.ready = false;
  for (Bucket& bucket : state_->buckets) {
    bucket.waiting = bucket.slots.size();
    bucket.arrived = 0;
  }
  state_->armed = true;
  state_->unfinished = true;
}

void GradientSync::finish() {
  if (!state_->unfinished) return;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->armed = false;
    state_->unfinished = false;
    for (Bucket& bucket : state_->buckets) {
      // Every rank runs the same graph, so a bucket none of whose parameters had a gradient here
      // had none anywhere (student search trains only its gates) and is left out everywhere.
      if (bucket.work || bucket.arrived == 0) continue;
      for (size_t s : bucket.slots) {
        const Slot& slot = state_->slots[s];
        if (!slot.ready) bucket.flat.narrow(0, slot.offset, slot.param.numel()).zero_();
      }
      state_->launch(bucket);
    }
  }
  state_->drain();
  torch::NoGradGuard no_grad;
  const double scale = 1.0 / static_cast<double>(state_->group->size());
  for (Bucket& bucket : state_->buckets) {
    if (bucket.arrived == 0) continue;
    bucket.flat.mul_(scale);
    for (size_t s : bucket.slots) {
      Slot& slot = state_->slots[s];
      if (!slot.ready) continue;
      torch::Tensor averaged = bucket.flat.narrow(0, slot.offset, slot.param.numel()).view_as(slot.param);
      torch::Tensor& grad = slot.param.mutable_grad();
      if (grad.defined()) {
        grad.copy_(averaged);
      } else {
        grad = averaged.clone();
      }
    }
  }
}

}  // namespace distillery::distributed

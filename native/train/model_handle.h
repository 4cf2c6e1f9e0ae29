#pragma once
// A network with the device it lives on and the lock that serialises work on it: one model is
// stepped by one worker at a time, whichever JS objects (model, trainer, teacher lists) point at it.
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "models/net.h"

namespace distillery::train {

struct ModelHandle {
  ModelHandle(models::Net net_in, models::ModelSpec spec_in, torch::Device device_in)
      : net(std::move(net_in)), spec(std::move(spec_in)), device(device_in) {}
  models::Net net;
  models::ModelSpec spec;
  torch::Device device;
  std::mutex mutex;
};

using ModelPtr = std::shared_ptr<ModelHandle>;

/** Locks several models at once, in address order, so two workers can never deadlock. */
class ModelLocks {
 public:
  explicit ModelLocks(std::vector<ModelHandle*> handles) {
    std::sort(handles.begin(), handles.end());
    handles.erase(std::unique(handles.begin(), handles.end()), handles.end());
    for (ModelHandle* h : handles) locks_.emplace_back(h->mutex);
  }

 private:
  std::vector<std::unique_lock<std::mutex>> locks_;
};

}  // namespace distillery::train

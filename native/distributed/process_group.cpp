#include "distributed/process_group.h"

#include <cstdlib>
#include <map>

#include "core/error.h"

#if defined(DISTILLERY_WITH_GLOO) || defined(DISTILLERY_WITH_NCCL)
#define DISTILLERY_WITH_C10D 1
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef DISTILLERY_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef DISTILLERY_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace distillery::distributed {

namespace {

// Only the calls we make, over whichever concrete c10d class backs the group: in LibTorch 1.13
// they derive from c10d::ProcessGroup, from 2.0 on from c10d::Backend.
class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual Pending all_reduce(torch::Tensor tensor) = 0;
  virtual Pending broadcast(torch::Tensor tensor, int64_t root) = 0;
  virtual void barrier() = 0;
};

[[noreturn]] void collective_failed(const char* what, int64_t rank, const std::string& detail) {
  fail(ErrorCode::Distributed, "rank ", rank, ": ", what, " failed: ", detail,
       " (a peer rank probably stopped; the launcher names it)");
}

template <typename Work>
Pending pending(Work work, const char* what, int64_t rank) {
  return [work = std::move(work), what, rank] {
    try {
      work->wait();
    } catch (const c10::Error& e) {
      collective_failed(what, rank, e.what_without_backtrace());
    } catch (const std::exception& e) {
      collective_failed(what, rank, e.what());
    }
  };
}

template <typename Group>
class CollectivesOf : public Collectives {
 public:
  CollectivesOf(c10::intrusive_ptr<Group> group, int64_t rank) : group_(std::move(group)), rank_(rank) {}
  Pending all_reduce(torch::Tensor tensor) override {
    return launch("all-reduce", [&] {
      std::vector<torch::Tensor> tensors{std::move(tensor)};
      return group_->allreduce(tensors);
    });
  }
  Pending broadcast(torch::Tensor tensor, int64_t root) override {
    return launch("broadcast", [&] {
      std::vector<torch::Tensor> tensors{std::move(tensor)};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      return group_->broadcast(tensors, options);
    });
  }
  void barrier() override {
    launch("barrier", [&] { return group_->barrier(); })();
  }

 private:
  template <typename Start>
  Pending launch(const char* what, Start&& start) {
    try {
      return pending(start(), what, rank_);
    } catch (const c10::Error& e) {
      collective_failed(what, rank_, e.what_without_backtrace());
    }
  }
  c10::intrusive_ptr<Group> group_;
  int64_t rank_;
};

}  // namespace

struct ProcessGroup::Impl {
#ifdef DISTILLERY_WITH_C10D
  c10::intrusive_ptr<c10d::Store> store;
#endif
  std::unique_ptr<Collectives> collectives;
};

bool ProcessGroup::supports(const std::string& backend) {
#ifdef DISTILLERY_WITH_GLOO
  if (backend == "gloo") return true;
#endif
#ifdef DISTILLERY_WITH_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

ProcessGroup::ProcessGroup(const GroupOptions& options) : options_(options), impl_(std::make_unique<Impl>()) {
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    fail(ErrorCode::InvalidArgument, "distributed: rank ", options.rank, " is outside a world of ", options.world_size,
         " processes (RANK must be in [0, WORLD_SIZE))");
  }
  if (options.master_port < 1 || options.master_port > 65535) {
    fail(ErrorCode::InvalidArgument, "distributed: MASTER_PORT must be in [1, 65535], got ", options.master_port);
  }
  if (options.backend != "gloo" && options.backend != "nccl") {
    fail(ErrorCode::InvalidArgument, "distributed: unknown backend '", options.backend,
         "': use \"gloo\" (CPU) or \"nccl\" (CUDA)");
  }
  if (options.backend == "nccl" && !options.device.is_cuda()) {
    fail(ErrorCode::InvalidArgument, "distributed: the nccl backend needs this rank's CUDA device, got ", options.device.str());
  }
  if (!supports(options.backend)) {
    fail(
        ErrorCode::Distributed, "distributed: this build of distillery has no ", options.backend, " backend: ",
        options.backend == "gloo"
            ? "Gloo needs libgloo's headers when the addon is built (sudo apt-get install libgloo-dev, then npx cmake-js compile)"
            : "NCCL needs a CUDA LibTorch with c10d NCCL support (docs/install.md, CUDA)");
  }
#ifdef DISTILLERY_WITH_C10D
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(options.master_port);
    store_options.isServer = options.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(options.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = options.timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
  } catch (const std::exception& e) {
    const std::string detail =
        dynamic_cast<const c10::Error*>(&e) ? static_cast<const c10::Error&>(e).what_without_backtrace() : e.what();
    fail(ErrorCode::Distributed, "distributed: rank ", options.rank, " could not join the rendezvous at ", options.master_addr,
         ":", options.master_port, " (", options.world_size, " ranks): ", detail,
         options.rank == 0 ? "; is the port already in use? choose another with --master-port"
                           : "; is rank 0 running and reachable?");
  }
  const int rank = static_cast<int>(options.rank);
  const int size = static_cast<int>(options.world_size);
  try {
    if (options.backend == "gloo") {
#ifdef DISTILLERY_WITH_GLOO
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      gloo_options->devices.push_back(interface != nullptr && *interface != '\0'
                                          ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                          : c10d::ProcessGroupGloo::createDefaultDevice());
      impl_->collectives = std::make_unique<CollectivesOf<c10d::ProcessGroupGloo>>(
          c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank, size, gloo_options), options.rank);
#endif
    } else {
#ifdef DISTILLERY_WITH_NCCL
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = options.timeout;
      impl_->collectives = std::make_unique<CollectivesOf<c10d::ProcessGroupNCCL>>(
          c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, rank, size, nccl_options), options.rank);
#endif
    }
  } catch (const c10::Error& e) {
    fail(ErrorCode::Distributed, "distributed: rank ", options.rank, " could not create the ", options.backend,
         " process group: ", e.what_without_backtrace());
  }
#endif
}

ProcessGroup::~ProcessGroup() = default;

Pending ProcessGroup::staged(torch::Tensor tensor, const std::function<Pending(torch::Tensor)>& launch) {
  if (options_.backend != "nccl" || tensor.is_cuda()) return launch(std::move(tensor));
  torch::Tensor on_device = tensor.to(options_.device);
  Pending wait = launch(on_device);
  return [wait, on_device, tensor]() mutable {
    wait();
    tensor.copy_(on_device);
  };
}

Pending ProcessGroup::all_reduce_async(torch::Tensor tensor) {
  return staged(std::move(tensor), [this](torch::Tensor t) { return impl_->collectives->all_reduce(std::move(t)); });
}

void ProcessGroup::all_reduce(torch::Tensor tensor) { all_reduce_async(std::move(tensor))(); }

Pending ProcessGroup::broadcast_async(torch::Tensor tensor, int64_t root) {
  return staged(std::move(tensor), [this, root](torch::Tensor t) { return impl_->collectives->broadcast(std::move(t), root); });
}

void ProcessGroup::barrier() { impl_->collectives->barrier(); }

void broadcast_from_rank0(ProcessGroup& group, const std::vector<torch::Tensor>& tensors) {
  if (group.size() == 1 || tensors.empty()) return;
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  torch::NoGradGuard no_grad;
  for (auto& [dtype, group_tensors] : by_dtype) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : group_tensors) flat_parts.push_back(t.detach().reshape(-1));
    torch::Tensor flat = torch::cat(flat_parts);
    group.broadcast_async(flat, 0)();
    int64_t offset = 0;
    for (const auto& t : group_tensors) {
      const int64_t n = t.numel();
      t.detach().copy_(flat.narrow(0, offset, n).view_as(t));
      offset += n;
    }
  }
}

void broadcast_module(ProcessGroup& group, torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors = module.parameters(true);
  for (const auto& b : module.buffers(true)) tensors.push_back(b);
  broadcast_from_rank0(group, tensors);
}

}  // namespace distillery::distributed

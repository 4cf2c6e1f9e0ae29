#pragma once
#include <napi.h>

#include "addon/live_handles.h"

#include <memory>

#include "distributed/process_group.h"

namespace distillery::addon {

Napi::Value create_process_group(const Napi::CallbackInfo& info);

/** JS class ProcessGroup: one rank's membership of a c10d group, made by createProcessGroup. */
class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static void define(Napi::Env env, Napi::Object exports);
  explicit ProcessGroupWrap(const Napi::CallbackInfo& info);
  /** The group behind a JS ProcessGroup (E_ARGUMENT naming `name` otherwise, E_DISPOSED after dispose). */
  static std::shared_ptr<distributed::ProcessGroup> unwrap(Napi::Value value, const std::string& name);

 private:
  friend Napi::Value create_process_group(const Napi::CallbackInfo& info);
  const std::shared_ptr<distributed::ProcessGroup>& handle() const;
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value all_reduce(const Napi::CallbackInfo& info);
  Napi::Value barrier(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<distributed::ProcessGroup> group_;
  LiveHandle live_;
};

/** createProcessGroup({backend, rank, worldSize, masterAddr, masterPort, timeoutMs}): resolves when every rank has joined. */
Napi::Value create_process_group(const Napi::CallbackInfo& info);

}  // namespace distillery::addon

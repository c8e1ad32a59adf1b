// The function kinds of the runtime: functions lifted from core code
// (`canon lift`), host functions, and the core functions the runtime makes
// for `canon lower` and the resource built-ins. Private to runtime/.
#pragma once

#include <chrono>

#include "component/runtime/instance_state.h"

namespace stratus::component {

// The concrete canonical options of one `canon lift` or `canon lower`.
struct RtCanonOptions {
  StringEncoding encoding = StringEncoding::Utf8;
  std::shared_ptr<engine::Memory> memory;
  std::shared_ptr<engine::Func> realloc;
  std::shared_ptr<engine::Func> post_return;
  bool async = false;
  std::shared_ptr<engine::Func> callback;  // lift async: the stackless event loop's callback
};

RtFuncPtr make_lifted_func(InstanceState& instance, FuncTypePtr type, std::shared_ptr<engine::Func> core_func,
                           RtCanonOptions options);
RtFuncPtr make_host_func(HostFunc func);

// The core function `canon lower` produces in `instance` for `callee`, whose
// type (as `instance` sees it) is `type`. With the `async` option the core
// function takes at most 4 flat parameters and an out-pointer for the
// result, and returns the subtask's state: the sync runtime runs every
// callee to completion, so that is always RETURNED (2), with no subtask.
//
// These core functions are held by the engine (the interpreter's store keeps
// every host function), so what they capture must not own engine objects,
// or the two would keep each other alive: `callee` and `options` are plain
// pointers to what `instance` owns (its functions and canonical options),
// and resource types are held weakly.
std::shared_ptr<engine::Func> make_lowered_func(InstanceState& instance, RtFunc* callee, FuncTypePtr type,
                                                const RtCanonOptions* options);

std::shared_ptr<engine::Func> make_resource_new(InstanceState& instance, const ResourceTypePtr& runtime_type);
std::shared_ptr<engine::Func> make_resource_drop(InstanceState& instance, const ResourceTypePtr& runtime_type);
std::shared_ptr<engine::Func> make_resource_rep(InstanceState& instance, const ResourceTypePtr& runtime_type);

// `canon task.return`: delivers the result of the current async-lifted call
// in `instance` (CanonicalABI.md canon_task_return, with its traps).
// `options` (memory, string encoding) is owned by `instance`, as for
// make_lowered_func.
std::shared_ptr<engine::Func> make_task_return(InstanceState& instance, std::optional<ValType> result,
                                               const RtCanonOptions* options, const engine::FuncType& core_type);

// A built-in of the async ABI (`stream.new`, `waitable-set.wait`, ...,
// async_builtins.cc); null for one this runtime does not have.
// `options` (memory, realloc, async) is owned by `instance`.
std::shared_ptr<engine::Func> make_async_builtin(InstanceState& instance, const CanonBuiltin& b,
                                                 const RtCanonOptions* options);

// `canon thread.new-indirect` over the core table `table`.
std::shared_ptr<engine::Func> make_thread_new_indirect(InstanceState& instance, std::shared_ptr<engine::Table> table,
                                                       const engine::FuncType& core_type);

// A built-in this runtime does not have: calling it traps (after the check
// every built-in makes).
std::shared_ptr<engine::Func> make_unsupported_builtin(InstanceState& instance, const std::string& name,
                                                       const engine::FuncType& type);

// The resource hooks of one side of a call (its handle table and, for the
// callee, the borrow scope of its task), and the canonical options made
// concrete with them.
std::unique_ptr<canon::ResourceHooks> make_call_hooks(InstanceState& instance, BorrowScope* scope);
canon::Context make_context(const RtCanonOptions& options, canon::ResourceHooks* hooks);

// The host's event loop (Store.tick until `done`): a trap when the store
// trapped, when nothing is ready any more (a deadlock), or past `timeout`
// from `start`.
MaybeTrap run_event_loop(Store& store, const std::function<bool()>& done,
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
                         std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());

// The host's event loop until nothing can run any more (no guest thread is
// ready and the reactor has nothing to wait for): a trap when the store
// trapped or past `timeout`.
MaybeTrap run_until_idle(Store& store, std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

// Calls `callee` with lifted values and waits for its result: the host
// (`caller` null) runs the store's event loop meanwhile and gets a trap
// when nothing can run any more (a deadlock) or `timeout` has passed; a
// component's thread blocks.
CallOutcome call_and_wait(RtFunc& callee, Store& store, InstanceState* caller, std::span<const Val> args,
                          std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

// Runs a resource's destructor for `rep` as a call from `caller` (null for
// the host), with the reentrance checks of a cross-component call.
std::optional<engine::Trap> destroy_resource(const ResourceTypePtr& resource, uint32_t rep, InstanceState* caller);

}  // namespace stratus::component

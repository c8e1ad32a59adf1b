// Internal to workload/: the instances of a component's providers, made
// beside the instance that uses them and started over with it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "component/runtime/runtime.h"
#include "plugins/plugins.h"
#include "wasi/p2/wasi.h"

namespace stratus::workload {

// An instance of a component another links to, made beside the instance
// that uses it and started over with it.
struct LinkedInstance {
  LinkedInstance(engine::Engine& engine, const wasi::p2::WasiConfig& c) : config(c), wasi(c), linker(engine) {}
  // One whose instance joins `store`, that of the instance linked to it.
  LinkedInstance(engine::Engine& engine, const wasi::p2::WasiConfig& c, std::shared_ptr<component::Store> store)
      : config(c), wasi(c), linker(engine, std::move(store)) {}
  wasi::p2::WasiConfig config;
  std::unique_ptr<plugins::InstanceState> plugin_state;  // before the linker: its functions use it
  wasi::p2::WasiHost wasi;
  component::Linker linker;
  std::shared_ptr<component::ComponentInstance> instance;
  bool used = false;
  // Made in the linker of the member it serves, on that member's WASI host
  // (the next member of an HTTP chain): `wasi` and `linker` go unused, and
  // whoever owns that host starts it over.
  bool in_requester = false;

  Result<void> prepare() {
    if (!used) {
      used = true;  // made fresh for this first use
      return {};
    }
    if (plugin_state) plugin_state->reset();
    if (!in_requester) wasi.reset(config);
    return instance->reset();
  }
};

// The providers of one instance made so far, each once (`by_index`), all
// in `store`. Most are made on the first call of one of their functions
// (Running::link_member), after the instance that calls them: each group
// made so goes to the front, so that going in reverse drops those that use
// a provider before it.
struct ProviderChain {
  explicit ProviderChain(std::shared_ptr<component::Store> s) : store(std::move(s)) {}
  ProviderChain(const ProviderChain&) = delete;
  ProviderChain& operator=(const ProviderChain&) = delete;
  ~ProviderChain() { clear(); }
  void clear() {
    while (!list.empty()) list.pop_back();
    by_index.clear();
    resource_types.clear();
  }
  std::shared_ptr<component::Store> store;
  std::vector<std::unique_ptr<LinkedInstance>> list;
  std::map<size_t, LinkedInstance*> by_index;  // member index -> its instance
  // The placeholders of the resource types each provider exports, shared
  // by its lazy exports in every linker of the chain (LazyExport).
  std::map<size_t, std::shared_ptr<component::LazyResourceTypes>> resource_types;
};

// An instance of a workload's member and the instances of its providers,
// all in the member's store (component::Linker's two-argument
// constructor): calls between them, async ones included, and the streams,
// futures and error contexts they pass each other run on its one loop.
struct MemberInstance {
  // Destroyed in reverse: the instance, then what it links to. Never null
  // once made (its address is in the instance's lazy imports).
  std::unique_ptr<ProviderChain> providers;
  std::unique_ptr<LinkedInstance> self;

  // Starts every one of them over for another call; an error when one
  // cannot be (it holds a task, stream or future still under way): the
  // caller then drops them all and makes new ones.
  Result<void> prepare() {
    STRATUS_TRY(self->prepare());
    for (auto& p : providers->list) STRATUS_TRY(p->prepare());
    return {};
  }

  // Calls `function` of the member's instance, then runs the work the call
  // left under way (a provider still writing a stream it returned, a task
  // after its return) until nothing can run: a trap there is the outcome.
  component::CallOutcome call(std::string_view function, std::span<const component::Val> args,
                              std::chrono::milliseconds timeout) {
    auto outcome = self->instance->call(function, args);
    if (!outcome.returned()) return outcome;
    if (auto after = self->linker.run_until_idle(timeout)) return component::CallOutcome(std::move(*after));
    return outcome;
  }
};

}  // namespace stratus::workload

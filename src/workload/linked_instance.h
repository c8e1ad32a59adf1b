// Internal to workload/: the instances of a component's providers, made
// beside the instance that uses them and started over with it.
#pragma once

#include <memory>
#include <vector>

#include "component/runtime/runtime.h"
#include "plugins/plugins.h"
#include "wasi/p2/wasi.h"

namespace stratus::workload {

// An instance of a component another links to, made beside the instance
// that uses it and started over with it.
struct LinkedInstance {
  LinkedInstance(engine::Engine& engine, const wasi::p2::WasiConfig& c) : config(c), wasi(c), linker(engine) {}
  wasi::p2::WasiConfig config;
  std::unique_ptr<plugins::InstanceState> plugin_state;  // before the linker: its functions use it
  wasi::p2::WasiHost wasi;
  component::Linker linker;
  std::shared_ptr<component::ComponentInstance> instance;
  bool used = false;

  Result<void> prepare() {
    if (!used) {
      used = true;  // made fresh for this first use
      return {};
    }
    if (plugin_state) plugin_state->reset();
    wasi.reset(config);
    return instance->reset();
  }
};

// The providers of one instance, in the order they were made: each may use
// those before it, so they go in reverse.
struct ProviderChain {
  ProviderChain() = default;
  ProviderChain(ProviderChain&&) = default;
  ProviderChain& operator=(ProviderChain&& other) noexcept {
    clear();
    list = std::move(other.list);
    return *this;
  }
  ~ProviderChain() { clear(); }
  void clear() {
    while (!list.empty()) list.pop_back();
  }
  std::vector<std::unique_ptr<LinkedInstance>> list;
};

}  // namespace stratus::workload

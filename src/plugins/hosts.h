// Internal to plugins/: each file defines its package's interfaces in a
// linker for one instance, keeping its host objects in `state`.
#pragma once

#include <memory>
#include <vector>

#include "plugins/backend_calls.h"
#include "plugins/keyvalue_store.h"
#include "plugins/message_broker.h"
#include "plugins/plugins.h"
#include "plugins_bindings.h"
#include "wasi/p2/wasi.h"

namespace stratus::plugins {

// One instance's host objects; reset() calls every hook.
class PluginState final : public InstanceState {
 public:
  void reset() override {
    for (auto& r : resets) r();
  }
  explicit PluginState(std::shared_ptr<BackendPool> pool) : calls(std::move(pool)) {}
  wit::HostResources resources;
  std::vector<std::shared_ptr<void>> objects;
  std::vector<std::function<void()>> resets;
  // After what its answers use (the hosts, the resources): goes first.
  BackendCalls calls;
};

Result<void> define_keyvalue(component::Linker& linker, const std::shared_ptr<KeyValueStore>& store,
                             const std::vector<std::string>& interfaces, const ComponentScope& scope,
                             PluginState& state);
Result<void> define_config(component::Linker& linker, const ComponentScope& scope, PluginState& state);
Result<void> define_instances(component::Linker& linker, const std::shared_ptr<InstanceMaker>& maker,
                              PluginState& state);
Result<void> define_logging(component::Linker& linker, LogLevel min_level,
                            const std::function<void(const LogRecord&)>& sink, const ComponentScope& scope,
                            PluginState& state);

class FsBlobStore;
Result<void> define_blobstore(component::Linker& linker, wasi::p2::WasiHost& wasi,
                              const std::shared_ptr<FsBlobStore>& store, PluginState& state);

Result<void> define_otel(component::Linker& linker, wasi::p2::WasiHost& wasi, const HostOptions::OtelSinks& sinks,
                         const std::function<void(const LogRecord&)>& log, const ComponentScope& scope,
                         PluginState& state);

Result<void> define_messaging(component::Linker& linker, const std::shared_ptr<MessageBroker>& broker,
                              PluginState& state);

}  // namespace stratus::plugins

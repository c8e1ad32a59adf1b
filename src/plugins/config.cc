// wasi:config/store: the component's configuration (its local_resources
// config over the workload's), read-only.
#include "plugins/hosts.h"

namespace stratus::plugins {
namespace {

namespace store = ::wasi::config::store;
using wit::HostResult;
using wit::WitResult;

class ConfigHost final : public store::Host {
 public:
  explicit ConfigHost(std::map<std::string, std::string> config) : config_(std::move(config)) {}

  HostResult<WitResult<std::optional<std::string>, store::Error>> get(const std::string& key) override {
    auto it = config_.find(key);
    std::optional<std::string> value;
    if (it != config_.end()) value = it->second;
    return WitResult<std::optional<std::string>, store::Error>::ok(std::move(value));
  }

  HostResult<WitResult<std::vector<std::tuple<std::string, std::string>>, store::Error>> get_all() override {
    std::vector<std::tuple<std::string, std::string>> all;
    all.reserve(config_.size());
    for (const auto& [k, v] : config_) all.emplace_back(k, v);
    return WitResult<std::vector<std::tuple<std::string, std::string>>, store::Error>::ok(std::move(all));
  }

 private:
  std::map<std::string, std::string> config_;
};

}  // namespace

Result<void> define_config(component::Linker& linker, const ComponentScope& scope, PluginState& state) {
  auto host = std::make_shared<ConfigHost>(scope.config);
  state.objects.push_back(host);
  return store::define(linker, *host, state.resources);
}

}  // namespace stratus::plugins

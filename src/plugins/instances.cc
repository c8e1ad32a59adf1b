// stratus:workload/instances: the service's handles on instances of the
// workload's other members. Making and calling them is the runtime's
// (InstanceMaker, workload/); this file holds the handles: dropping one
// destroys its instance, and so does dropping the service's instance.
#include "plugins/hosts.h"
#include "wasi/p2/table.h"

namespace stratus::plugins {
namespace {

namespace api = ::stratus::workload::instances;
using wit::HostResult;
using wit::WitResult;

engine::Trap unknown_handle() {
  return engine::Trap{engine::TrapKind::HostError, "stratus:workload/instances: unknown instance handle"};
}

class InstancesHost final : public api::Host {
 public:
  explicit InstancesHost(std::shared_ptr<InstanceMaker> maker) : maker_(std::move(maker)) {}

  void drop_instance(uint32_t rep) override { table_.remove(rep); }
  void clear() { table_ = {}; }

  HostResult<WitResult<api::Instance, std::string>> instance_create(const std::string& member) override {
    auto made = maker_->create(member);
    if (!made) return WitResult<api::Instance, std::string>::err(made.error().message);
    uint32_t rep = table_.add(std::shared_ptr<MadeInstance>(std::move(*made)));
    return WitResult<api::Instance, std::string>::ok(api::Instance{rep});
  }

  HostResult<std::string> instance_member(const api::InstanceBorrow& self) override {
    auto instance = table_.get(self.rep);
    if (!instance) return unknown_handle();
    return instance->member();
  }

  HostResult<WitResult<std::string, std::string>> instance_call(const api::InstanceBorrow& self,
                                                                const std::string& function,
                                                                const std::string& args) override {
    auto instance = table_.get(self.rep);
    if (!instance) return unknown_handle();
    auto result = instance->call(function, args);
    if (!result) return WitResult<std::string, std::string>::err(result.error().message);
    return WitResult<std::string, std::string>::ok(std::move(*result));
  }

 private:
  std::shared_ptr<InstanceMaker> maker_;
  wasi::p2::ResourceTable<MadeInstance> table_;
};

}  // namespace

Result<void> define_instances(component::Linker& linker, const std::shared_ptr<InstanceMaker>& maker,
                              PluginState& state) {
  auto host = std::make_shared<InstancesHost>(maker);
  state.objects.push_back(host);
  state.resets.emplace_back([h = host.get()] { h->clear(); });
  return api::define(linker, *host, state.resources);
}

}  // namespace stratus::plugins

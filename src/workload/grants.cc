#include "workload/grants.h"

namespace stratus::workload {

Result<wasi::p2::WasiConfig> guest_grants(const std::string& component, const LocalResources& resources,
                                          const std::map<std::string, std::filesystem::path>& volumes) {
  wasi::p2::WasiConfig c;
  c.args = {component};
  for (const auto& [k, v] : resources.environment) c.env.emplace_back(k, v);
  for (const auto& mount : resources.volume_mounts) {
    auto v = volumes.find(mount.name);
    if (v == volumes.end()) return make_error("volume_mounts: the volume `" + mount.name + "` is not in volumes");
    c.dirs.push_back(wasi::p2::Preopen{v->second.string(), mount.mount_path, mount.read_only});
  }
  c.allowed_hosts = resources.allowed_hosts;
  c.sockets.name_lookups = resources.allowed_ip_name_lookups;
  // 127.0.0.1 and ::1 exactly, as runtime.h says: not the rest of
  // 127.0.0.0/8, which a Loopback rule would also let through.
  for (uint16_t port : resources.allowed_host_loopback_ports) {
    for (const char* ip : {"127.0.0.1", "::1"}) {
      wasi::p2::AddressRule rule;
      rule.host = wasi::p2::AddressRule::Host::Exact;
      rule.address = *wasi::p2::IpAddress::parse(ip);
      rule.port = port;
      c.sockets.connect.push_back(rule);
    }
  }
  return c;
}

}  // namespace stratus::workload

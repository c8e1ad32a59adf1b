#include "lattice/workload_proto.h"

#include <charconv>

namespace stratus::lattice {
namespace {

namespace v2 = wasmcloud::runtime::v2;

class Converter {
 public:
  std::vector<std::string> problems;

  workload::LocalResources resources(const v2::LocalResources& in, const std::string& path) {
    workload::LocalResources out;
    if (in.memory_limit_mb() != 0) out.memory_limit_mb = in.memory_limit_mb();
    if (in.cpu_limit() != 0) out.cpu_limit = in.cpu_limit();
    out.config.insert(in.config().begin(), in.config().end());
    out.environment.insert(in.environment().begin(), in.environment().end());
    for (const auto& m : in.volume_mounts()) out.volume_mounts.push_back({m.name(), m.mount_path(), m.read_only()});
    out.allowed_hosts.assign(in.allowed_hosts().begin(), in.allowed_hosts().end());
    out.allowed_ip_name_lookups.assign(in.allowed_ip_name_lookups().begin(), in.allowed_ip_name_lookups().end());
    for (int i = 0; i < in.allowed_host_loopback_ports_size(); ++i) {
      std::string where = path + ".allowed_host_loopback_ports[" + std::to_string(i) + "]";
      if (auto port = loopback_port(in.allowed_host_loopback_ports(i), where))
        out.allowed_host_loopback_ports.push_back(*port);
    }
    return out;
  }

 private:
  std::optional<uint16_t> loopback_port(const std::string& entry, const std::string& where) {
    std::string_view text = entry;
    std::string_view protocol;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
      protocol = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    if (!protocol.empty() && protocol != "tcp") {
      problems.push_back(where + ": '" + entry + "': only tcp ports are granted (\"5432\" or \"5432/tcp\")");
      return std::nullopt;
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
      problems.push_back(where + ": '" + entry + "' is not a port from 1 to 65535 (\"5432\" or \"5432/tcp\")");
      return std::nullopt;
    }
    return static_cast<uint16_t>(port);
  }
};

// An image's pull secret (unset when both fields are empty) and policy.
template <class From, class To>
void pull(const From& from, To& to) {
  if (from.has_image_pull_secret() &&
      (!from.image_pull_secret().username().empty() || !from.image_pull_secret().password().empty()))
    to.image_pull_secret =
        workload::ImagePullSecret{from.image_pull_secret().username(), from.image_pull_secret().password()};
  switch (from.image_pull_policy()) {
    case v2::IMAGE_PULL_POLICY_ALWAYS: to.image_pull_policy = workload::ImagePullPolicy::Always; break;
    case v2::IMAGE_PULL_POLICY_IF_NOT_PRESENT: to.image_pull_policy = workload::ImagePullPolicy::IfNotPresent; break;
    case v2::IMAGE_PULL_POLICY_NEVER: to.image_pull_policy = workload::ImagePullPolicy::Never; break;
    default: break;
  }
}

// The instance limits: below 1 means "not configured" on the wire.
std::optional<int32_t> limit(int32_t v) { return v > 0 ? std::optional<int32_t>(v) : std::nullopt; }

workload::Workload convert(const v2::Workload& in, Converter& c) {
  workload::Workload w;
  w.ns = in.namespace_();
  w.name = in.name();
  w.annotations.insert(in.annotations().begin(), in.annotations().end());
  if (in.has_service()) {
    workload::Service s;
    s.image = in.service().image();
    s.local_resources = c.resources(in.service().local_resources(), "service.local_resources");
    s.max_restarts = in.service().max_restarts();
    pull(in.service(), s);
    w.service = std::move(s);
  }
  for (int i = 0; i < in.wit_world().components_size(); ++i) {
    const auto& from = in.wit_world().components(i);
    workload::Component comp;
    comp.name = from.name();
    comp.image = from.image();
    comp.local_resources =
        c.resources(from.local_resources(), "wit_world.components[" + std::to_string(i) + "].local_resources");
    comp.pool_size = limit(from.pool_size());
    comp.max_invocations = limit(from.max_invocations());
    comp.max_concurrency = limit(from.max_concurrency());
    pull(from, comp);
    w.components.push_back(std::move(comp));
  }
  for (const auto& h : in.wit_world().host_interfaces()) {
    workload::HostInterface hi;
    hi.ns = h.namespace_();
    hi.package = h.package();
    hi.version = h.version();
    hi.interfaces.assign(h.interfaces().begin(), h.interfaces().end());
    hi.config.insert(h.config().begin(), h.config().end());
    hi.name = h.name();
    w.host_interfaces.push_back(std::move(hi));
  }
  for (int i = 0; i < in.volumes_size(); ++i) {
    const auto& from = in.volumes(i);
    workload::Volume v;
    v.name = from.name();
    switch (from.volume_type_case()) {
      case v2::Volume::kHostPath:
        v.kind = workload::Volume::Kind::HostPath;
        v.local_path = from.host_path().local_path();
        break;
      case v2::Volume::kEmptyDir: v.kind = workload::Volume::Kind::EmptyDir; break;
      case v2::Volume::VOLUME_TYPE_NOT_SET:
        c.problems.push_back("volumes[" + std::to_string(i) + "]: give exactly one of host_path and empty_dir");
        break;
    }
    w.volumes.push_back(std::move(v));
  }
  return w;
}

}  // namespace

Result<workload::Workload> to_workload(const v2::Workload& in) {
  Converter c;
  workload::Workload w = convert(in, c);
  if (!c.problems.empty()) {
    std::string message;
    for (const auto& p : c.problems) message += (message.empty() ? "" : "\n") + p;
    return make_error(message);
  }
  return w;
}

std::vector<std::string> check_workload(const v2::Workload& message, const std::string& base_dir) {
  Converter c;
  workload::Workload w = convert(message, c);
  auto problems = workload::validate_workload(w, base_dir);
  problems.insert(problems.end(), c.problems.begin(), c.problems.end());
  return problems;
}

}  // namespace stratus::lattice

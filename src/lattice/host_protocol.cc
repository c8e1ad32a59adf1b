#include "lattice/host_protocol.h"

#include "lattice/protojson.h"
#include "lattice/workload_proto.h"
#include "plugins/plugins.h"

namespace stratus::lattice {
namespace {

namespace v2 = wasmcloud::runtime::v2;

v2::WorkloadState proto_state(workload::WorkloadState s) {
  switch (s) {
    case workload::WorkloadState::kStarting: return v2::WORKLOAD_STATE_STARTING;
    case workload::WorkloadState::kRunning: return v2::WORKLOAD_STATE_RUNNING;
    case workload::WorkloadState::kCompleted: return v2::WORKLOAD_STATE_COMPLETED;
    case workload::WorkloadState::kStopping: return v2::WORKLOAD_STATE_STOPPING;
    case workload::WorkloadState::kError: return v2::WORKLOAD_STATE_ERROR;
  }
  return v2::WORKLOAD_STATE_UNSPECIFIED;
}

v2::WorkloadStatus make_status(const std::string& id, v2::WorkloadState state, std::string message) {
  v2::WorkloadStatus s;
  s.set_workload_id(id);
  s.set_workload_state(state);
  s.set_message(std::move(message));
  return s;
}

template <class Response>
Response with_status(v2::WorkloadStatus status) {
  Response r;
  *r.mutable_workload_status() = std::move(status);
  return r;
}

template <class Response>
Response refused(const std::string& id, const std::string& message) {
  return with_status<Response>(make_status(id, v2::WORKLOAD_STATE_ERROR, message));
}

void add_interface(google::protobuf::RepeatedPtrField<v2::WitInterface>& into, const std::string& ns,
                   const std::string& package, const std::string& version, const std::vector<std::string>& interfaces) {
  auto* i = into.Add();
  i->set_namespace_(ns);
  i->set_package(package);
  i->set_version(version);
  for (const auto& name : interfaces) i->add_interfaces(name);
}

}  // namespace

HostProtocol::HostProtocol(workload::WorkloadHost& host, HostIdentity identity, std::filesystem::path base_dir)
    : host_(host), identity_(std::move(identity)), machine_(machine_facts()), base_dir_(std::move(base_dir)) {
  if (!identity_.hostname.empty()) machine_.hostname = identity_.hostname;
  (void)cpu_.sample();
}

std::optional<std::string> HostProtocol::handle(std::string_view verb, std::string_view body) {
  if (verb == "heartbeat") return to_json(heartbeat());
  if (verb == "workload.start") return to_json(start(body));
  if (verb == "workload.status") return to_json(status(body));
  if (verb == "workload.stop") return to_json(stop(body));
  return std::nullopt;
}

v2::WorkloadStartResponse HostProtocol::start(std::string_view body) {
  using Response = v2::WorkloadStartResponse;
  v2::WorkloadStartRequest request;
  if (auto read = from_json(body, request); !read) {
    return refused<Response>("", "workload.start: the request does not read: " + read.error().message);
  }
  const std::string& id = request.workload_id();
  if (id.empty()) return refused<Response>("", "workload.start: workload_id: missing");
  if (!request.has_workload()) return refused<Response>(id, "workload.start: workload: missing");
  {
    std::lock_guard lock(mu_);
    if (workloads_.count(id) != 0) {
      return refused<Response>(
          id, "workload.start: workload_id " + id + " already exists on this host (stop it before starting it again)");
    }
    Entry& e = workloads_[id];
    e.components = static_cast<uint64_t>(request.workload().wit_world().components_size()) +
                   (request.workload().has_service() ? 1 : 0);
  }
  auto finish = [&](v2::WorkloadState state, const std::string& message) {
    std::lock_guard lock(mu_);
    Entry& e = workloads_[id];
    e.state = state;
    e.message = message;
  };
  std::string problems;
  for (const auto& p : check_workload(request.workload(), base_dir_.string()))
    problems += (problems.empty() ? "" : "\n") + ("workload." + p);
  if (!problems.empty()) {
    finish(v2::WORKLOAD_STATE_ERROR, problems);
    return refused<Response>(id, problems);
  }
  auto w = to_workload(request.workload());
  auto started = w ? host_.start(*w, base_dir_) : Result<std::string>(std::move(w).error());
  if (!started) {
    finish(v2::WORKLOAD_STATE_ERROR, started.error().message);
    return refused<Response>(id, started.error().message);
  }
  bool stop_now = false;
  {
    std::lock_guard lock(mu_);
    Entry& e = workloads_[id];
    e.host_id = *started;
    stop_now = e.stop_asked;
  }
  if (stop_now) {
    (void)host_.stop(*started);
    std::lock_guard lock(mu_);
    workloads_.erase(id);
    return with_status<Response>(make_status(id, v2::WORKLOAD_STATE_STOPPING, "stopped while starting"));
  }
  return with_status<Response>(status_of(id));
}

v2::WorkloadStatus HostProtocol::status_of(const std::string& workload_id) {
  std::string host_id;
  {
    std::lock_guard lock(mu_);
    auto it = workloads_.find(workload_id);
    if (it == workloads_.end())
      return make_status(workload_id, v2::WORKLOAD_STATE_NOT_FOUND, "workload " + workload_id + " not found");
    if (it->second.host_id.empty()) return make_status(workload_id, it->second.state, it->second.message);
    host_id = it->second.host_id;
  }
  auto s = host_.status(host_id);
  if (!s) return make_status(workload_id, v2::WORKLOAD_STATE_NOT_FOUND, "workload " + workload_id + " not found");
  return make_status(workload_id, proto_state(s->state), s->message);
}

v2::WorkloadStatusResponse HostProtocol::status(std::string_view body) {
  using Response = v2::WorkloadStatusResponse;
  v2::WorkloadStatusRequest request;
  if (auto read = from_json(body, request); !read)
    return refused<Response>("", "workload.status: the request does not read: " + read.error().message);
  if (request.workload_id().empty()) return refused<Response>("", "workload.status: workload_id: missing");
  return with_status<Response>(status_of(request.workload_id()));
}

v2::WorkloadStopResponse HostProtocol::stop(std::string_view body) {
  using Response = v2::WorkloadStopResponse;
  v2::WorkloadStopRequest request;
  if (auto read = from_json(body, request); !read)
    return refused<Response>("", "workload.stop: the request does not read: " + read.error().message);
  const std::string& id = request.workload_id();
  if (id.empty()) return refused<Response>("", "workload.stop: workload_id: missing");
  std::string host_id;
  {
    std::lock_guard lock(mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end())
      return with_status<Response>(make_status(id, v2::WORKLOAD_STATE_NOT_FOUND, "workload " + id + " not found"));
    if (it->second.host_id.empty() && it->second.state == v2::WORKLOAD_STATE_STARTING) {
      // The start under way stops it when it is done.
      it->second.stop_asked = true;
      return with_status<Response>(make_status(id, v2::WORKLOAD_STATE_STOPPING, "stopping once started"));
    }
    host_id = it->second.host_id;
    it->second.state = v2::WORKLOAD_STATE_STOPPING;
    it->second.host_id.clear();
  }
  std::string message = "stopped";
  if (!host_id.empty()) {
    if (auto stopped = host_.stop(host_id); !stopped) message = stopped.error().message;
  }
  std::lock_guard lock(mu_);
  workloads_.erase(id);
  return with_status<Response>(make_status(id, v2::WORKLOAD_STATE_STOPPING, message));
}

void HostProtocol::stop_all() {
  std::map<std::string, Entry> all;
  {
    std::lock_guard lock(mu_);
    all.swap(workloads_);
  }
  for (const auto& [id, e] : all)
    if (!e.host_id.empty()) (void)host_.stop(e.host_id);
}

v2::HostHeartbeat HostProtocol::heartbeat() {
  v2::HostHeartbeat hb;
  hb.set_id(identity_.id);
  hb.set_hostname(machine_.hostname);
  hb.set_friendly_name(identity_.friendly_name);
  hb.set_version(identity_.version);
  hb.mutable_labels()->insert(identity_.labels.begin(), identity_.labels.end());
  auto since_epoch = identity_.started_at.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  hb.mutable_started_at()->set_seconds(seconds.count());
  hb.mutable_started_at()->set_nanos(
      static_cast<int32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count()));
  hb.set_os_arch(machine_.os_arch);
  hb.set_os_name(machine_.os_name);
  hb.set_os_kernel(machine_.os_kernel);
  hb.set_system_cpu_usage(cpu_.sample());
  auto memory = memory_use();
  hb.set_system_memory_total(memory.total_bytes);
  hb.set_system_memory_free(memory.available_bytes);
  uint64_t workloads = 0, components = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : workloads_) {
      ++workloads;
      if (!e.host_id.empty()) components += e.components;
    }
  }
  hb.set_workload_count(workloads);
  hb.set_component_count(components);
  // What components may import: WASI 0.2 (any 0.2.x) and the plugins.
  add_interface(*hb.mutable_imports(), "wasi", "io", "0.2.0", {"error", "poll", "streams"});
  add_interface(*hb.mutable_imports(), "wasi", "clocks", "0.2.0", {"monotonic-clock", "wall-clock"});
  add_interface(*hb.mutable_imports(), "wasi", "random", "0.2.0", {"random", "insecure", "insecure-seed"});
  add_interface(*hb.mutable_imports(), "wasi", "cli", "0.2.0",
                {"environment", "exit", "stdin", "stdout", "stderr", "terminal-input", "terminal-output",
                 "terminal-stdin", "terminal-stdout", "terminal-stderr"});
  add_interface(*hb.mutable_imports(), "wasi", "filesystem", "0.2.0", {"types", "preopens"});
  add_interface(
      *hb.mutable_imports(), "wasi", "sockets", "0.2.0",
      {"network", "instance-network", "tcp", "tcp-create-socket", "udp", "udp-create-socket", "ip-name-lookup"});
  add_interface(*hb.mutable_imports(), "wasi", "http", "0.2.0", {"types", "outgoing-handler"});
  for (const auto& p : plugins::HostPlugins::offered_packages()) {
    std::vector<std::string> imported;
    for (const auto& i : p.interfaces)
      if (i != "handler") imported.push_back(i);  // wasmcloud:messaging's handler is the component's export
    add_interface(*hb.mutable_imports(), p.ns, p.package, p.version, imported);
  }
  // What the host calls in components.
  add_interface(*hb.mutable_exports(), "wasi", "http", "0.2.0", {"incoming-handler"});
  add_interface(*hb.mutable_exports(), "wasi", "http", "0.3.0", {"handler"});
  add_interface(*hb.mutable_exports(), "wasi", "cli", "0.2.0", {"run"});
  add_interface(*hb.mutable_exports(), "wasmcloud", "messaging", "0.2.0", {"handler"});
  hb.set_http_port(identity_.http_port);
  hb.set_environment(identity_.environment);
  return hb;
}

}  // namespace stratus::lattice

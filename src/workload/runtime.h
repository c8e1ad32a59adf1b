// Workloads running on one host (`stratus up`): the wasmCloud v2 model.
//
// start() checks the spec (every problem at once), opens the host
// interfaces it asks for (plugins/), loads its components, and plans their
// links (links.h). Each component exporting wasi:http/incoming-handler gets
// a route on the host's router (serve/http_server.h): by the `host` and
// `path_prefix` of the workload's wasi:http host interface config, else
// every host and path; `host-aliases` (comma-separated, which wasmCloud's
// operator adds for a Kubernetes Service) are more hosts for the same
// routes. Such a component is instantiated per request from
// its pool (pool_size instances made at start, max_concurrency at once,
// max_invocations per instance; past max_concurrency, up to 4 x
// max_concurrency requests wait for an instance and the rest are answered
// 503 at once, logged); the components it links to are
// instantiated beside it, one of each per instance, and start over with it.
// The service, when there is one, is a wasi:cli command run once and
// restarted up to max_restarts times with back-off (100 ms doubling, 5 s at
// most) when it fails.
//
// Each component's resources are the host's defaults, the workload's and its
// own, merged (spec.h): environment, config (wasi:config), volume_mounts
// (preopens; host_path, or an empty_dir made for the workload and removed
// at stop), memory_limit_mb, allowed_hosts (outbound HTTP),
// allowed_ip_name_lookups, and allowed_host_loopback_ports (wasi:sockets may
// connect to those ports of 127.0.0.1 and ::1, nothing else). What the
// sandbox refuses a guest (wasi:filesystem, wasi:sockets, wasi:http) is
// logged, "NS/NAME COMPONENT: what and why", through HostSettings::log.
//
// States: STARTING, RUNNING, COMPLETED (the service finished and nothing is
// routed to the workload), STOPPING, ERROR (the message says why).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "observe/host_log.h"
#include "oci/image_store.h"
#include "plugins/plugins.h"
#include "serve/http_server.h"
#include "support/result.h"
#include "workload/spec.h"

namespace stratus::workload {

enum class WorkloadState { kStarting, kRunning, kCompleted, kStopping, kError };
const char* state_name(WorkloadState state);

struct WorkloadStatus {
  std::string id;  // "namespace/name"
  WorkloadState state = WorkloadState::kStarting;
  std::string message;  // why, for ERROR; what it serves, for RUNNING
  uint64_t service_restarts = 0;
  std::vector<std::string> routes;  // "host/prefix" each HTTP component takes
  // Instances made so far of each component (by name; the service's is
  // "service"): a provider is made when one of its functions is first
  // called, so the members nobody called have none.
  std::map<std::string, uint64_t> instances_made;
};

struct HostSettings {
  LocalResources defaults;       // under every workload's resources
  plugins::HostOptions plugins;  // data_dir (keyvalue's SQLite file, empty_dir volumes), log sink
  std::chrono::milliseconds call_timeout{30'000};
  // Where guests' stdout and stderr go (by default the host's own).
  std::shared_ptr<wasi::p2::OutputStream> guest_stdout, guest_stderr;
  // Where the host's own lines go (a service that failed, a message handler
  // that trapped, a guest refused what it was not granted); by default
  // stderr, prefixed "stratus up: ".
  observe::HostLog log;
  // Where OCI images (`image:` an OCI reference) are pulled to and cached;
  // without it such an image is a start error.
  std::shared_ptr<oci::ImageStore> images;
};

class WorkloadHost {
 public:
  // `router` serves the HTTP components; both must outlive this host.
  WorkloadHost(engine::Engine& engine, serve::HttpServer& router, HostSettings settings);
  ~WorkloadHost();  // stops every workload
  WorkloadHost(const WorkloadHost&) = delete;
  WorkloadHost& operator=(const WorkloadHost&) = delete;

  // Starts `workload`, read from a file in `base_dir` (relative image paths
  // resolve there). Returns its id once it is RUNNING; errors name every
  // problem (a field path each). A workload with the same id is an error.
  Result<std::string> start(const Workload& workload, const std::filesystem::path& base_dir);
  std::optional<WorkloadStatus> status(const std::string& id) const;
  std::vector<WorkloadStatus> list() const;
  // Removes its routes (requests under way finish), stops its service and
  // forgets it. Errors: no such workload.
  Result<void> stop(const std::string& id);

  // Calls `function` ("iface#f") of the component `component` of workload
  // `id` in a new instance of it, linked by the host to new instances of
  // the components it imports from (as a routed request's instance is,
  // all in one store), then runs the work the call left under way (a
  // callee still writing a stream, a task after its return) to its end.
  // Errors: no such workload or component, or an instance that could not
  // be made; a trap (the callee's too) is in the outcome, and the host goes on.
  Result<component::CallOutcome> call(const std::string& id, const std::string& component, const std::string& function,
                                      std::span<const component::Val> args);

  // The host's in-process message broker, which workloads asking for
  // wasmcloud:messaging without a backend share.
  std::shared_ptr<plugins::MessageBroker> broker() const { return settings_.plugins.broker; }

  class Running;

 private:
  engine::Engine& engine_;
  serve::HttpServer& router_;
  HostSettings settings_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Running>> workloads_;
  // Components decoded so far, while some workload still holds them, by
  // their file's identity (device, inode, size, modification and change
  // times: a file written or replaced is read anew) and by the SHA-256 of
  // their bytes: the same file in several members or workloads (or a
  // workload started again) is read once, the same bytes decoded once.
  // Errors: the file unreadable, or the component invalid (named by its
  // path).
  Result<component::ComponentPtr> decode_image(const std::filesystem::path& file);
  // The cached file of an OCI image, pulled first as `policy` says.
  Result<std::filesystem::path> pull_image(const std::string& image, const std::optional<ImagePullSecret>& secret,
                                           ImagePullPolicy policy);
  std::mutex decoded_mu_;
  std::map<std::string, std::weak_ptr<const component::Component>> decoded_;
};

}  // namespace stratus::workload

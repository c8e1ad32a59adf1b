// The host side of wasmCloud v2's host protocol, apart from its transport:
// the runtime-operator's requests (protojson bodies, protojson.h) answered
// from a WorkloadHost, and the host's heartbeat. nats_host.h carries them
// over NATS.
//
//   heartbeat        any body (the operator sends `{}`)  -> HostHeartbeat
//   workload.start   WorkloadStartRequest                -> WorkloadStartResponse
//   workload.status  WorkloadStatusRequest               -> WorkloadStatusResponse
//   workload.stop    WorkloadStopRequest                 -> WorkloadStopResponse
//
// Workloads are known by the operator's workload_id (the Workload object's
// UID); the WorkloadHost knows them as "namespace/name", so one host runs
// one workload of a given namespace and name at a time. States as the proto
// has them: STARTING while the start is under way, RUNNING, COMPLETED,
// STOPPING, ERROR (a start that failed, with the reason, until stopped) and
// NOT_FOUND for an id the host does not have. A body that does not decode,
// or lacks what the request needs, gets the response type with state ERROR
// and a message naming the field; the host goes on.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "lattice/machine.h"
#include "lattice/runtime_v2.pb.h"
#include "workload/runtime.h"

namespace stratus::lattice {

struct HostIdentity {
  std::string id;                             // --host-id
  std::string friendly_name;                  // the operator's Host object name
  std::string hostname;                       // empty: the machine's
  std::string version;                        // stratus's
  std::string environment;                    // the tenant the host advertises (--environment)
  std::map<std::string, std::string> labels;  // "hostgroup" included
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
  uint16_t http_port = 0;
};

class HostProtocol {
 public:
  // Relative image paths of the workloads started resolve against
  // `base_dir`. `host` must outlive this.
  HostProtocol(workload::WorkloadHost& host, HostIdentity identity, std::filesystem::path base_dir);

  // The reply to a request on runtime.host.<id>.<verb>; nullopt for a verb
  // the protocol does not have.
  std::optional<std::string> handle(std::string_view verb, std::string_view body);

  wasmcloud::runtime::v2::WorkloadStartResponse start(std::string_view body);
  wasmcloud::runtime::v2::WorkloadStatusResponse status(std::string_view body);
  wasmcloud::runtime::v2::WorkloadStopResponse stop(std::string_view body);
  wasmcloud::runtime::v2::HostHeartbeat heartbeat();

  // Stops every workload it started (before the WorkloadHost goes).
  void stop_all();

  const HostIdentity& identity() const { return identity_; }

 private:
  struct Entry {
    wasmcloud::runtime::v2::WorkloadState state = wasmcloud::runtime::v2::WORKLOAD_STATE_STARTING;
    std::string message;
    std::string host_id;  // the WorkloadHost's "namespace/name", once started
    uint64_t components = 0;
    bool stop_asked = false;  // a stop came while it was starting
  };
  wasmcloud::runtime::v2::WorkloadStatus status_of(const std::string& workload_id);

  workload::WorkloadHost& host_;
  HostIdentity identity_;
  MachineFacts machine_;
  std::filesystem::path base_dir_;
  CpuSampler cpu_;
  std::mutex mu_;
  std::map<std::string, Entry> workloads_;  // by workload_id
};

}  // namespace stratus::lattice

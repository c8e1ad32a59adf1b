// wasmCloud v2's host protocol over NATS (libnats), as the runtime-operator
// speaks it: requests on runtime.host.<id>.<verb> answered through
// HostProtocol (each on a worker thread, so a slow start does not hold up
// a status), and the heartbeat published on runtime.operator.heartbeat.<id>
// every interval and at once after a reconnection.
//
// When the server goes away the connection reconnects for ever, waiting
// 100 ms and doubling up to 2 s between rounds (plus jitter); libnats puts
// the subscription back. Workloads keep serving HTTP meanwhile: nothing
// here stands between the router and them. Heartbeats are not queued while
// disconnected (the operator wants the current one, not the backlog).
//
// Credentials as libnats takes them: user and password (or a token) in
// the URL, a `.creds` file (JWT and NKey seed), and TLS with `tls://`
// URLs, a CA file and a client certificate and key.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lattice/host_protocol.h"
#include "observe/host_log.h"
#include "support/result.h"

namespace stratus::lattice {

struct NatsSettings {
  std::string url = "nats://127.0.0.1:4222";  // a comma-separated list of servers too
  std::string creds_file;
  std::string tls_ca_file;
  std::string tls_cert_file, tls_key_file;
  std::chrono::milliseconds heartbeat_interval{15'000};
  // Where the connection's events and refused requests are told.
  observe::HostLog log;
};

std::string request_subject(const std::string& host_id, const std::string& verb);  // runtime.host.<id>.<verb>
std::string heartbeat_subject(const std::string& host_id);                         // runtime.operator.heartbeat.<id>

// Every state NatsHost::state() names, in libnats's order.
inline constexpr const char* kNatsStates[] = {"disconnected", "connecting",   "connected",
                                              "closed",       "reconnecting", "draining"};

class NatsHost {
 public:
  // Connects (an error if the first connection fails: a wrong URL or
  // credentials say so at once), subscribes and sends the first heartbeat.
  static Result<std::unique_ptr<NatsHost>> start(HostProtocol& protocol, NatsSettings settings);
  ~NatsHost();
  NatsHost(const NatsHost&) = delete;
  NatsHost& operator=(const NatsHost&) = delete;

  bool connected() const;
  // The connection's state as libnats has it, in words: "connecting",
  // "connected", "reconnecting" (the server went away: libnats is trying
  // again), "disconnected", "draining" or "closed" (kNatsStates).
  const char* state() const;
  // Times the connection came back after it was lost.
  uint64_t reconnects() const;
  uint64_t heartbeats_sent() const { return heartbeats_.load(); }

  class Impl;

 private:
  explicit NatsHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> heartbeats_{0};
};

}  // namespace stratus::lattice

// What `stratus serve` and `stratus up` share for observability: the
// --metrics-addr option, the metrics registry with the engine's counters,
// and the listener serving /metrics (Prometheus), /status.json and the
// status page at / (observe/).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "observe/metrics.h"
#include "observe/metrics_server.h"
#include "observe/otlp/exporter.h"
#include "serve/http_server.h"
#include "support/result.h"

namespace stratus::cli {

struct ObserveCliOptions {
  std::string metrics_addr;   // empty: no metrics, no status page
  std::string otlp_endpoint;  // empty: OTEL_EXPORTER_OTLP_* decide
};

void add_observe_options(CLI::App& app, ObserveCliOptions& options);

// A workload as the status page shows it.
struct WorkloadView {
  std::string id;
  std::string state;  // RUNNING, ERROR, ...
  std::string message;
  std::map<std::string, uint64_t> instances_made;  // by component
};

// /status.json's document: the host (`command`, how long it has run, the
// requests it served) and each workload with its components (instances,
// from `workloads` and `routes`) and routes (the last minute's req/s and p99).
nlohmann::json status_document(const std::string& command, double uptime_seconds, uint64_t requests,
                               const std::vector<WorkloadView>& workloads,
                               const std::vector<serve::RouteStats>& routes);

// The registry of a serve or up process (with the engine's counters:
// aot compile time, runs, cache hits, guest memory) and, once started,
// its listener.
class Observability {
 public:
  explicit Observability(const engine::Engine& engine);
  ~Observability();
  Observability(const Observability&) = delete;
  Observability& operator=(const Observability&) = delete;

  observe::Registry& registry() { return registry_; }
  // Serves /metrics, /status.json (from `status`, called per request on
  // the listener's thread) and / on `addr`. Errors: a bad address, a port
  // in use.
  Result<void> start(const std::string& addr, std::function<nlohmann::json()> status);
  // The span exporter --otlp-endpoint (`endpoint`) or the OTEL_* variables
  // ask for; null when neither does. Errors: a bad URL or variable.
  Result<observe::TraceExporter*> start_traces(const std::string& endpoint);
  // What `options` of a serve or up process observe with: the registry when
  // --metrics-addr is given, the span exporter start_traces makes (said on
  // stdout as "stratus COMMAND: spans to URL"). Errors: start_traces's.
  Result<void> configure(serve::ServeOptions& options, const ObserveCliOptions& cli, const std::string& command);
  // Stops the listener (before what `status` reads goes away).
  void stop() { server_.reset(); }
  // "http://HOST:PORT" of the listener, once started.
  std::string url() const;

 private:
  observe::Registry registry_;
  std::unique_ptr<observe::TraceExporter> traces_;
  std::unique_ptr<observe::MetricsServer> server_;
};

}  // namespace stratus::cli

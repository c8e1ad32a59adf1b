// What `stratus serve`, `stratus up` and `stratus host` share for
// observability: the --metrics-addr and --otlp-endpoint options, the
// metrics registry with the engine's counters, the listener serving
// /metrics (Prometheus), /status.json and the status page at / (observe/),
// the OTLP exporters, and what a host of workloads (`up`, `host`) feeds
// them.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "observe/metrics.h"
#include "observe/metrics_server.h"
#include "observe/otlp/exporter.h"
#include "observe/otlp/log_exporter.h"
#include "observe/otlp/metric_exporter.h"
#include "plugins/plugins.h"
#include "serve/http_server.h"
#include "support/result.h"
#include "workload/runtime.h"

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
class Observability;

// Stops the observability that made it (Observability::watch) when it
// goes: declared after what the listener and the collectors read, it goes
// before them.
class [[nodiscard]] Watching {
 public:
  explicit Watching(Observability* o) : o_(o) {}
  ~Watching();
  Watching(Watching&& other) noexcept : o_(std::exchange(other.o_, nullptr)) {}
  Watching& operator=(Watching&&) = delete;
  Watching(const Watching&) = delete;
  Watching& operator=(const Watching&) = delete;

 private:
  Observability* o_;
};

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
  // The OTLP exporters --otlp-endpoint (`endpoint`) or the OTEL_* variables
  // ask for (spans, metrics of the registry, log records); none when
  // neither does. Errors: a bad URL or variable.
  Result<void> start_otlp(const std::string& endpoint);
  // What `options` of a serve or up process observe with: the registry when
  // --metrics-addr is given or metrics are exported, the exporters
  // start_otlp makes (each said on stdout as "stratus COMMAND: spans to
  // URL"), the server's lines as log records too. Errors: start_otlp's.
  Result<void> configure(serve::ServeOptions& options, const ObserveCliOptions& cli, const std::string& command);
  // Whether the registry is in use (--metrics-addr, or OTLP metrics):
  // what feeds only it need not be made otherwise.
  bool measuring() const { return measuring_; }
  // A sink for the host's own lines: each printed on stderr as `print`
  // does, and with OTLP logs a log record too (with the severity it was
  // written at, and the current span's ids).
  observe::HostLog host_log(std::function<void(const std::string&)> print) const;
  // What a host of workloads (`up`, `host`) gives its workloads past
  // configure(): wasi:logging's sink (guest_log), wasi:otel's exporters,
  // the host's lines (host_log of `print`) and, when measuring, the
  // plugins' backend calls timed (stratus_plugin_call_duration_seconds).
  void configure_host(workload::HostSettings& settings, std::function<void(const std::string&)> print);
  // The workloads of `host` routed by `router`: the instances made of each
  // component (when measuring) and, with --metrics-addr, the listener
  // (said on stdout as "stratus COMMAND: metrics on URL/metrics, status
  // page on URL/"). Errors: start's.
  Result<Watching> watch(const workload::WorkloadHost& host, const serve::HttpServer& router,
                         const ObserveCliOptions& cli, const std::string& command);
  // A NATS connection's state, `connection` its label: the gauge
  // stratus_nats_connection_state (1 for the `state` it is in, 0 for the
  // others of lattice::kNatsStates) and the counter
  // stratus_nats_reconnects_total, read from `state` and `reconnects`
  // before each scrape or export until stop(). Nothing when not measuring.
  void watch_nats(const std::string& connection, std::function<const char*()> state,
                  std::function<uint64_t()> reconnects);
  // wasi:logging's sink: stderr as plugins::log_to_stderr writes it, and
  // with OTLP logs a log record too (the workload and component as
  // stratus.workload and stratus.component, the current span's ids).
  std::function<void(const plugins::LogRecord&)> guest_log() const;
  observe::TraceExporter* traces() const { return traces_.get(); }
  observe::LogExporter* logs() const { return logs_.get(); }
  observe::MetricExporter* metric_exporter() const { return metrics_.get(); }
  // Stops the listener and the metrics export (before what `status` and
  // the registry's collectors read goes away), and removes the collectors
  // watch and watch_nats added.
  void stop();
  // "http://HOST:PORT" of the listener, once started.
  std::string url() const;

 private:
  observe::Registry registry_;
  bool measuring_ = false;
  std::vector<uint64_t> watch_collectors_;  // removed by stop()
  observe::Family<observe::Gauge>* nats_state_ = nullptr;
  observe::Family<observe::Gauge>* nats_reconnects_ = nullptr;
  std::unique_ptr<observe::TraceExporter> traces_;
  std::unique_ptr<observe::LogExporter> logs_;
  // Declared after the registry: it reads it until it stops.
  std::unique_ptr<observe::MetricExporter> metrics_;
  std::unique_ptr<observe::MetricsServer> server_;
};

}  // namespace stratus::cli

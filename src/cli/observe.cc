#include "cli/observe.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "engine/aot/aot_stats.h"
#include "engine/tiered/tiered_engine.h"
#include "lattice/nats_host.h"
#include "observe/current_span.h"
#include "observe/status_page.h"

namespace stratus::cli {

void add_observe_options(CLI::App& app, ObserveCliOptions& options) {
  app.add_option("--metrics-addr", options.metrics_addr,
                 "Serve Prometheus metrics (/metrics) and a status page (/) on HOST:PORT (port 0: any free port)");
  app.add_option("--otlp-endpoint", options.otlp_endpoint,
                 "Send spans (each HTTP request's, its component's invocation, link, plugin and outbound calls), "
                 "metrics and log records over OTLP/HTTP to URL/v1/traces, /v1/metrics and /v1/logs "
                 "(http://HOST:PORT; else OTEL_EXPORTER_OTLP_ENDPOINT and friends)");
}

nlohmann::json status_document(const std::string& command, double uptime_seconds, uint64_t requests,
                               const std::vector<WorkloadView>& workloads,
                               const std::vector<serve::RouteStats>& routes) {
  nlohmann::json doc;
  doc["host"] = {{"command", command}, {"uptime_seconds", uptime_seconds}, {"requests", requests}};
  doc["workloads"] = nlohmann::json::array();
  for (const auto& w : workloads) {
    nlohmann::json components = nlohmann::json::array();
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& [name, made] : w.instances_made)
      // live, pooled, invocations and traps are counted for HTTP components
      // only (their routes' pools): null for the rest.
      by_name[name] = {{"name", name},      {"instances_made", made}, {"live", nullptr},
                       {"pooled", nullptr}, {"invocations", nullptr}, {"traps", nullptr}};
    nlohmann::json route_list = nlohmann::json::array();
    for (const auto& r : routes) {
      if (r.workload != w.id) continue;
      auto& c = by_name[r.component];
      if (c.is_null()) c = {{"name", r.component}, {"instances_made", 0}};
      c["live"] = r.live;
      c["pooled"] = r.pooled;
      c["invocations"] = r.invocations;
      c["traps"] = r.traps;
      nlohmann::json p99 = nullptr;
      if (r.last_minute.requests > 0 && std::isfinite(r.last_minute.p99_seconds))
        p99 = r.last_minute.p99_seconds * 1000;
      route_list.push_back({{"route", r.route},
                            {"component", r.component},
                            {"requests_per_second", r.last_minute.requests_per_second},
                            {"p99_ms", p99},
                            {"requests_last_minute", r.last_minute.requests}});
    }
    for (auto& [name, c] : by_name) components.push_back(std::move(c));
    doc["workloads"].push_back({{"id", w.id},
                                {"state", w.state},
                                {"message", w.message},
                                {"components", std::move(components)},
                                {"routes", std::move(route_list)}});
  }
  return doc;
}

Observability::Observability(const engine::Engine& engine) {
  auto& compile_seconds = registry_.mirrored_counter("stratus_aot_compile_seconds_total",
                                                     "Wall time the aot backend's C compiler ran, summed.");
  auto& compiler_runs = registry_.mirrored_counter("stratus_aot_compiler_runs_total", "C compiler runs of aot.");
  auto& modules = registry_.mirrored_counter("stratus_aot_modules_compiled_total", "Core modules aot compiled.");
  auto& cache_hits = registry_.mirrored_counter("stratus_aot_cache_hits_total",
                                                "Compiled modules aot loaded from its cache without compiling.");
  auto& memory = registry_.gauge("stratus_guest_memory_bytes",
                                 "Linear memory guests of the aot backend can reach now, all instances together.");
  registry_.on_collect([&engine, &compile_seconds, &compiler_runs, &modules, &cache_hits, &memory] {
    const engine::Engine* aot = engine::aot_tier(engine);  // tiered: its aot tier's
    auto stats = engine::aot_stats(aot != nullptr ? *aot : engine);
    if (!stats) return;  // the interpreter: none of these
    compile_seconds.with({}).set(stats->compile_seconds);
    compiler_runs.with({}).set(static_cast<double>(stats->compiler_runs));
    modules.with({}).set(static_cast<double>(stats->modules_compiled));
    cache_hits.with({}).set(static_cast<double>(stats->cache_hits));
    memory.with({}).set(static_cast<double>(stats->memory_bytes));
  });
}

Observability::~Observability() { stop(); }

Watching::~Watching() {
  if (o_ != nullptr) o_->stop();
}

void Observability::stop() {
  server_.reset();
  // Its last export runs the registry's collectors: before what they read goes.
  metrics_.reset();
  for (auto id : watch_collectors_) registry_.remove_collector(id);
  watch_collectors_.clear();
}

Result<void> Observability::start_otlp(const std::string& endpoint) {
  auto config = observe::otlp_config(endpoint);
  if (!config) return std::move(config).error();
  if (!*config) return {};
  const auto& c = **config;
  if (!c.traces_url.empty()) {
    auto exporter = observe::TraceExporter::start(c);
    if (!exporter) return std::move(exporter).error();
    traces_ = std::move(*exporter);
    auto& exported = registry_.mirrored_counter("stratus_otlp_spans_exported_total", "Spans a collector took.");
    auto& dropped = registry_.mirrored_counter("stratus_otlp_spans_dropped_total",
                                               "Spans dropped: the queue was full, or the collector failed a batch.");
    registry_.on_collect([t = traces_.get(), &exported, &dropped] {
      exported.with({}).set(static_cast<double>(t->exported()));
      dropped.with({}).set(static_cast<double>(t->dropped()));
    });
  }
  if (c.logs) {
    auto exporter = observe::LogExporter::start(c);
    if (!exporter) return std::move(exporter).error();
    logs_ = std::move(*exporter);
    auto& exported =
        registry_.mirrored_counter("stratus_otlp_log_records_exported_total", "Log records a collector took.");
    auto& dropped =
        registry_.mirrored_counter("stratus_otlp_log_records_dropped_total",
                                   "Log records dropped: the queue was full, or the collector failed a batch.");
    registry_.on_collect([l = logs_.get(), &exported, &dropped] {
      exported.with({}).set(static_cast<double>(l->exported()));
      dropped.with({}).set(static_cast<double>(l->dropped()));
    });
  }
  if (c.metrics) {
    auto exporter = observe::MetricExporter::start(c, registry_);
    if (!exporter) return std::move(exporter).error();
    metrics_ = std::move(*exporter);
    measuring_ = true;
  }
  return {};
}

Result<void> Observability::configure(serve::ServeOptions& options, const ObserveCliOptions& cli,
                                      const std::string& command) {
  STRATUS_TRY(start_otlp(cli.otlp_endpoint));
  if (!cli.metrics_addr.empty()) measuring_ = true;
  if (measuring_) options.metrics = &registry_;
  options.traces = traces_.get();
  if (traces_) std::printf("stratus %s: spans to %s\n", command.c_str(), traces_->config().traces_url.c_str());
  if (metrics_)
    std::printf("stratus %s: metrics to %s every %.3g s\n", command.c_str(), metrics_->signal().url.c_str(),
                std::chrono::duration<double>(metrics_->interval()).count());
  if (logs_) {
    std::printf("stratus %s: log records to %s\n", command.c_str(), logs_->signal().url.c_str());
    options.log = host_log([command](const std::string& message) {
      std::time_t now = std::time(nullptr);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
      std::fprintf(stderr, "%s stratus %s: %s\n", when, command.c_str(), message.c_str());
    });
  }
  return {};
}

namespace {

// The ids of the span the calling thread works under, on `record`.
void add_current_span(observe::LogData& record) {
  if (const auto* span = observe::current_span()) {
    record.trace_id = span->trace_id;
    record.span_id = span->span_id;
    record.trace_flags = span->flags;
  }
}

}  // namespace

observe::HostLog Observability::host_log(std::function<void(const std::string&)> print) const {
  if (!logs_) return print;
  return [print = std::move(print), logs = logs_.get()](observe::Severity severity, const std::string& message) {
    print(message);
    observe::LogData record;
    record.time_unix_ns = observe::unix_now_ns();
    record.severity_number = static_cast<int32_t>(severity);
    record.severity_text = observe::severity_text(severity);
    record.body = message;
    add_current_span(record);
    logs->submit(std::move(record));
  };
}

std::function<void(const plugins::LogRecord&)> Observability::guest_log() const {
  if (!logs_) return plugins::log_to_stderr;
  return [logs = logs_.get()](const plugins::LogRecord& r) {
    plugins::log_to_stderr(r);
    observe::LogData record;
    record.time_unix_ns = observe::unix_now_ns();
    record.severity_number = static_cast<int32_t>(plugins::otel_severity(r.level));
    record.severity_text = plugins::level_name(r.level);
    record.body = std::string(r.message);
    record.attributes.emplace_back("stratus.workload", std::string(r.workload));
    record.attributes.emplace_back("stratus.component", std::string(r.component));
    if (!r.context.empty()) record.attributes.emplace_back("wasi.logging.context", std::string(r.context));
    add_current_span(record);
    logs->submit(std::move(record));
  };
}

void Observability::configure_host(workload::HostSettings& settings, std::function<void(const std::string&)> print) {
  settings.plugins.log = guest_log();
  settings.plugins.otel = {traces(), logs(), metric_exporter()};
  settings.log = host_log(std::move(print));
  if (measuring_) {
    settings.plugins.backend_pool = plugins::make_backend_pool(&registry_.histogram(
        "stratus_plugin_call_duration_seconds",
        "Time a host plugin's backend work took per call (a keyvalue query, a blob, a broker's reply).", {"plugin"},
        {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}));
  }
}

Result<Watching> Observability::watch(const workload::WorkloadHost& host, const serve::HttpServer& router,
                                      const ObserveCliOptions& cli, const std::string& command) {
  Watching watching(this);
  if (measuring_) {
    auto& made =
        registry_.mirrored_counter("stratus_component_instances_made_total",
                                   "Instances made of each component of a workload.", {"workload", "component"});
    watch_collectors_.push_back(registry_.on_collect([&host, &made] {
      for (const auto& s : host.list())
        for (const auto& [component, n] : s.instances_made) made.with({s.id, component}).set(static_cast<double>(n));
    }));
  }
  if (cli.metrics_addr.empty()) return watching;
  auto began = std::chrono::steady_clock::now();
  auto started = start(cli.metrics_addr, [&host, &router, began, command] {
    std::vector<WorkloadView> views;
    for (const auto& s : host.list())
      views.push_back(WorkloadView{s.id, workload::state_name(s.state), s.message, s.instances_made});
    return status_document("stratus " + command,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
                           router.counters().requests.load(), views, router.route_stats());
  });
  if (!started) return std::move(started).error();
  std::printf("stratus %s: metrics on %s/metrics, status page on %s/\n", command.c_str(), url().c_str(), url().c_str());
  std::fflush(stdout);
  return watching;
}

void Observability::watch_nats(const std::string& connection, std::function<const char*()> state,
                               std::function<uint64_t()> reconnects) {
  if (!measuring_) return;
  if (nats_state_ == nullptr) {
    nats_state_ = &registry_.gauge("stratus_nats_connection_state",
                                   "A NATS connection's state: 1 for the state it is in, 0 for the others.",
                                   {"connection", "state"});
    nats_reconnects_ = &registry_.mirrored_counter(
        "stratus_nats_reconnects_total", "Times a NATS connection came back after it was lost.", {"connection"});
  }
  watch_collectors_.push_back(
      registry_.on_collect([connection, state = std::move(state), reconnects = std::move(reconnects),
                            gauge = nats_state_, counter = nats_reconnects_] {
        std::string now = state();
        for (const char* s : lattice::kNatsStates) gauge->with({connection, s}).set(now == s ? 1 : 0);
        counter->with({connection}).set(static_cast<double>(reconnects()));
      }));
}

Result<void> Observability::start(const std::string& addr, std::function<nlohmann::json()> status) {
  observe::MetricsServer::Handlers handlers;
  handlers["/metrics"] = [this] { return observe::Page{observe::kExpositionContentType, registry_.expose()}; };
  handlers["/status.json"] = [status] { return observe::Page{"application/json", status().dump()}; };
  handlers["/"] = [] { return observe::Page{"text/html; charset=utf-8", std::string(observe::status_page_html())}; };
  auto server = observe::MetricsServer::start(addr, std::move(handlers));
  if (!server) return server.error();
  server_ = std::move(*server);
  return {};
}

std::string Observability::url() const {
  if (!server_) return {};
  return "http://" + server_->host() + ":" + std::to_string(server_->port());
}

}  // namespace stratus::cli

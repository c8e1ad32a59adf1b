#include "cli/observe.h"

#include <cmath>
#include <cstdio>

#include "engine/aot/aot_stats.h"
#include "observe/status_page.h"

namespace stratus::cli {

void add_observe_options(CLI::App& app, ObserveCliOptions& options) {
  app.add_option("--metrics-addr", options.metrics_addr,
                 "Serve Prometheus metrics (/metrics) and a status page (/) on HOST:PORT (port 0: any free port)");
  app.add_option("--otlp-endpoint", options.otlp_endpoint,
                 "Send spans (each HTTP request's, its component's invocation, link, plugin and outbound calls) over "
                 "OTLP/HTTP (protobuf) to URL/v1/traces (http://HOST:PORT; "
                 "else OTEL_EXPORTER_OTLP_ENDPOINT and friends)");
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
    auto stats = engine::aot_stats(engine);
    if (!stats) return;  // the interpreter: none of these
    compile_seconds.with({}).set(stats->compile_seconds);
    compiler_runs.with({}).set(static_cast<double>(stats->compiler_runs));
    modules.with({}).set(static_cast<double>(stats->modules_compiled));
    cache_hits.with({}).set(static_cast<double>(stats->cache_hits));
    memory.with({}).set(static_cast<double>(stats->memory_bytes));
  });
}

Observability::~Observability() { stop(); }

Result<observe::TraceExporter*> Observability::start_traces(const std::string& endpoint) {
  auto config = observe::otlp_config(endpoint);
  if (!config) return config.error();
  if (!*config) return static_cast<observe::TraceExporter*>(nullptr);
  auto exporter = observe::TraceExporter::start(std::move(**config));
  if (!exporter) return exporter.error();
  traces_ = std::move(*exporter);
  auto& exported = registry_.mirrored_counter("stratus_otlp_spans_exported_total", "Spans a collector took.");
  auto& dropped = registry_.mirrored_counter("stratus_otlp_spans_dropped_total",
                                             "Spans dropped: the queue was full, or the collector failed a batch.");
  registry_.on_collect([t = traces_.get(), &exported, &dropped] {
    exported.with({}).set(static_cast<double>(t->exported()));
    dropped.with({}).set(static_cast<double>(t->dropped()));
  });
  return traces_.get();
}

Result<void> Observability::configure(serve::ServeOptions& options, const ObserveCliOptions& cli,
                                      const std::string& command) {
  if (!cli.metrics_addr.empty()) options.metrics = &registry_;
  auto traces = start_traces(cli.otlp_endpoint);
  if (!traces) return std::move(traces).error();
  options.traces = *traces;
  if (*traces != nullptr)
    std::printf("stratus %s: spans to %s\n", command.c_str(), (*traces)->config().traces_url.c_str());
  return {};
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

// `stratus host --nats URL --host-id ID ...`: a wasmCloud v2 host that
// wasmCloud's runtime-operator schedules onto over NATS (lattice/). One
// HTTP listener routes all the workloads started on it (the router and
// WorkloadHost of `stratus up`); SIGINT or SIGTERM stop it: no more
// requests from NATS, then its workloads stop.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/images.h"
#include "cli/limits.h"
#include "cli/observe.h"
#include "cli/subcommand.h"
#include "engine/engine.h"
#include "lattice/host_protocol.h"
#include "lattice/nats_host.h"
#include "serve/http_server.h"
#include "workload/runtime.h"

namespace stratus::cli {
namespace {

std::atomic<bool> g_host_stop{false};

extern "C" void on_host_signal(int) { g_host_stop.store(true); }

struct HostOptions {
  std::string nats = "nats://127.0.0.1:4222";
  std::string nats_creds, nats_tls_ca, nats_tls_cert, nats_tls_key;
  std::string host_id;
  std::string host_group = "default";
  std::vector<std::string> labels;
  std::string friendly_name, hostname, environment;
  std::string http_addr = "127.0.0.1:8080";
  std::string data_dir = ".stratus/data";
  std::vector<std::string> insecure_registries;
  std::string engine = "tiered";
  std::string cache_dir;
  std::string heartbeat_interval = "15s";
  int timeout_ms = 30'000;
  ObserveCliOptions observe;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "stratus host: %s\n", message.c_str());
  return 1;
}

void log_line(const std::string& line) {
  std::fprintf(stderr, "stratus host: %s\n", line.c_str());
  std::fflush(stderr);
}

// A host id is one token of a NATS subject.
bool valid_host_id(const std::string& id) {
  if (id.empty() || id.size() > 256) return false;
  for (unsigned char c : id)
    if (c <= ' ' || c == '.' || c == '*' || c == '>' || c >= 0x7f) return false;
  return true;
}

int host(const HostOptions& o) {
  if (!valid_host_id(o.host_id))
    return fail("--host-id '" + o.host_id + "': one NATS subject token (no spaces, '.', '*' or '>')");
  lattice::HostIdentity identity;
  identity.id = o.host_id;
  identity.friendly_name = o.friendly_name.empty() ? o.host_id : o.friendly_name;
  identity.hostname = o.hostname;
  identity.environment = o.environment;
  identity.version = STRATUS_VERSION_STRING;
  identity.labels["hostgroup"] = o.host_group;
  for (const auto& l : o.labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--label '" + l + "': expected KEY=VALUE");
    identity.labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  auto interval = parse_duration(o.heartbeat_interval);
  if (!interval) return fail("--heartbeat-interval: " + interval.error().message);
  if (*interval < std::chrono::milliseconds(100)) return fail("--heartbeat-interval: at least 100ms");

  serve::ServeOptions options;
  auto colon = o.http_addr.rfind(':');
  if (colon == std::string::npos) return fail("--http-addr '" + o.http_addr + "': expected HOST:PORT");
  options.host = o.http_addr.substr(0, colon);
  try {
    int port = std::stoi(o.http_addr.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    options.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return fail("--http-addr '" + o.http_addr + "': the port must be a number from 0 to 65535");
  }
  options.timeout = std::chrono::milliseconds(o.timeout_ms);
  options.stop_flag = &g_host_stop;

  engine::EngineOptions engine_options;
  engine_options.cache_dir = o.cache_dir;
  engine_options.log = [](const std::string& line) { std::fprintf(stderr, "stratus host: %s\n", line.c_str()); };
  auto engine = engine::make_engine(o.engine, engine_options);
  if (!engine) return fail(engine.error().message);
  Observability observability(**engine);
  if (auto observing = observability.configure(options, o.observe, "host"); !observing)
    return fail(observing.error().message);
  auto router = serve::HttpServer::create_router(**engine, options);
  auto port = router->listen();
  if (!port) return fail(port.error().message);
  identity.http_port = *port;

  workload::HostSettings settings;
  settings.plugins.data_dir = o.data_dir;
  settings.images = make_image_store(o.data_dir, o.insecure_registries);
  settings.call_timeout = options.timeout;
  observability.configure_host(settings, log_line);
  workload::WorkloadHost workloads(**engine, *router, settings);
  lattice::HostProtocol protocol(workloads, identity, std::filesystem::current_path());

  lattice::NatsSettings nats;
  nats.url = o.nats;
  nats.creds_file = o.nats_creds;
  nats.tls_ca_file = o.nats_tls_ca;
  nats.tls_cert_file = o.nats_tls_cert;
  nats.tls_key_file = o.nats_tls_key;
  nats.heartbeat_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*interval);
  nats.log = observability.host_log(log_line);
  auto link = lattice::NatsHost::start(protocol, nats);
  if (!link) return fail(link.error().message);
  // Stops the listener and the collectors reading the workloads and the link before they go.
  auto watching = observability.watch(workloads, *router, o.observe, "host");
  if (!watching) return fail(watching.error().message);
  lattice::NatsHost& nats_host = **link;
  observability.watch_nats(
      "host", [&nats_host] { return nats_host.state(); }, [&nats_host] { return nats_host.reconnects(); });

  std::signal(SIGINT, on_host_signal);
  std::signal(SIGTERM, on_host_signal);
  std::printf("stratus host: %s (hostgroup %s) on NATS, serving http://%s:%u/ (Ctrl-C stops)\n", o.host_id.c_str(),
              o.host_group.c_str(), options.host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);
  router->run();
  observability.stop();
  link->reset();  // no more requests, then the workloads stop
  protocol.stop_all();
  std::printf("stratus host: stopped after %llu requests\n",
              static_cast<unsigned long long>(router->counters().requests.load()));
  return 0;
}

}  // namespace

Subcommand add_host(CLI::App& parent) {
  auto opts = std::make_shared<HostOptions>();
  CLI::App* app = parent.add_subcommand(
      "host", "A wasmCloud v2 host over NATS: wasmCloud's runtime-operator starts workloads on it");
  app->add_option("--nats", opts->nats,
                  "NATS server URL (nats://[USER:PASSWORD@]HOST:PORT, tls://..., or a comma-separated list)")
      ->capture_default_str();
  app->add_option("--nats-creds", opts->nats_creds, "NATS credentials file (JWT and NKey seed)");
  app->add_option("--nats-tls-ca", opts->nats_tls_ca, "CA certificates (PEM) to trust for the NATS server");
  app->add_option("--nats-tls-cert", opts->nats_tls_cert, "Client certificate (PEM) for NATS");
  app->add_option("--nats-tls-key", opts->nats_tls_key, "Client certificate's key (PEM) for NATS");
  app->add_option("--host-id", opts->host_id, "This host's id (runtime.host.<ID>.* subjects)")->required();
  app->add_option("--host-group", opts->host_group, "The `hostgroup` label")->capture_default_str();
  app->add_option("--label", opts->labels, "KEY=VALUE, a label of the host (repeatable)");
  app->add_option("--friendly-name", opts->friendly_name, "The operator's name for the host (default: the host id)");
  app->add_option("--hostname", opts->hostname, "The name the operator reaches the host at (default: the machine's)");
  app->add_option("--environment", opts->environment, "The environment (tenant) the host advertises");
  app->add_option("--http-addr", opts->http_addr, "The HTTP listener, HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  app->add_option("--data-dir", opts->data_dir, "Where embedded backends keep data")->capture_default_str();
  add_image_options(*app, opts->insecure_registries);
  app->add_option("--engine", opts->engine,
                  "Backend: tiered (interp at once, aot once compiled in the background), aot (wasm2c + C "
                  "compiler, cached) or interp")
      ->check(CLI::IsMember({"tiered", "aot", "interp"}))
      ->capture_default_str();
  app->add_option("--cache-dir", opts->cache_dir, "Where aot keeps compiled modules (default ~/.cache/stratus)");
  app->add_option("--heartbeat-interval", opts->heartbeat_interval, "Between heartbeats (500ms, 15s, 1m)")
      ->capture_default_str();
  app->add_option("--timeout-ms", opts->timeout_ms, "Per socket read/write and per guest call")->capture_default_str();
  add_observe_options(*app, opts->observe);
  return Subcommand{app, [opts] { return host(*opts); }};
}

}  // namespace stratus::cli

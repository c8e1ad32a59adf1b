// `stratus up WORKLOAD.yaml... [--addr 127.0.0.1:8080]`: one host, embedded
// defaults, no other service. A file is a snake_case spec or wasmCloud's
// Kubernetes kinds (workload/manifest.h; their notes go to stderr). Starts
// each workload (workload/runtime.h), serves their HTTP components behind
// one listener routed by Host header and path prefix, and on SIGINT or
// SIGTERM stops them: requests under way finish, services are interrupted.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/images.h"
#include "cli/observe.h"
#include "cli/subcommand.h"
#include "engine/engine.h"
#include "plugins/plugins.h"
#include "serve/http_server.h"
#include "support/file.h"
#include "workload/manifest.h"
#include "workload/runtime.h"
#include "workload/spec.h"

namespace stratus::cli {
namespace {

std::atomic<bool> g_up_stop{false};

extern "C" void on_up_signal(int) { g_up_stop.store(true); }

struct UpOptions {
  std::string engine = "tiered";
  std::string cache_dir;
  std::string addr = "127.0.0.1:8080";
  std::string data_dir = ".stratus/data";
  std::vector<std::string> insecure_registries;
  int timeout_ms = 30'000;
  ObserveCliOptions observe;
  std::vector<std::string> files;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "stratus up: %s\n", message.c_str());
  return 1;
}

int up(const UpOptions& o) {
  serve::ServeOptions options;
  auto colon = o.addr.rfind(':');
  if (colon == std::string::npos) return fail("--addr '" + o.addr + "': expected HOST:PORT");
  options.host = o.addr.substr(0, colon);
  try {
    int port = std::stoi(o.addr.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    options.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return fail("--addr '" + o.addr + "': the port must be a number from 0 to 65535");
  }
  options.timeout = std::chrono::milliseconds(o.timeout_ms);
  options.stop_flag = &g_up_stop;

  // Each file's workloads: one from a snake_case spec, one per document of
  // wasmCloud's Kubernetes kinds.
  struct FileWorkload {
    std::string file;
    workload::Manifest manifest;
    std::filesystem::path base_dir;
  };
  std::vector<FileWorkload> workloads;
  for (const auto& file : o.files) {
    auto bytes = read_file(file);
    if (!bytes) return fail(bytes.error().message);
    auto read = workload::read_workload_file(std::string(bytes->begin(), bytes->end()), file);
    if (!read) return fail(read.error().message);
    for (auto& m : *read) {
      for (const auto& note : m.notes) std::fprintf(stderr, "stratus up: %s: %s\n", file.c_str(), note.c_str());
      workloads.push_back({file, std::move(m), std::filesystem::absolute(file).parent_path()});
    }
  }

  engine::EngineOptions engine_options;
  engine_options.cache_dir = o.cache_dir;
  engine_options.log = [](const std::string& line) { std::fprintf(stderr, "stratus up: %s\n", line.c_str()); };
  auto engine = engine::make_engine(o.engine, engine_options);
  if (!engine) return fail(engine.error().message);
  Observability observability(**engine);
  if (auto observing = observability.configure(options, o.observe, "up"); !observing)
    return fail(observing.error().message);
  auto router = serve::HttpServer::create_router(**engine, options);
  auto port = router->listen();
  if (!port) return fail(port.error().message);

  workload::HostSettings settings;
  settings.plugins.data_dir = o.data_dir;
  settings.images = make_image_store(o.data_dir, o.insecure_registries);
  observability.configure_host(settings,
                               [](const std::string& line) { std::fprintf(stderr, "stratus up: %s\n", line.c_str()); });
  settings.call_timeout = options.timeout;
  workload::WorkloadHost host(**engine, *router, settings);
  // The listener reads the host and the router: it stops first, however
  // this returns.
  auto watching = observability.watch(host, *router, o.observe, "up");
  if (!watching) return fail(watching.error().message);
  std::string base = "http://" + options.host + ":" + std::to_string(*port);
  for (size_t i = 0; i < workloads.size(); ++i) {
    auto began = std::chrono::steady_clock::now();
    auto id = host.start(workloads[i].manifest.workload, workloads[i].base_dir);
    if (!id) {
      std::string message = workload::manifest_message(workloads[i].manifest, id.error().message);
      for (size_t at = 0; (at = message.find('\n', at)) != std::string::npos; at += 3) message.replace(at, 1, "\n  ");
      const auto& m = workloads[i].manifest;
      std::string which = m.kind.empty() ? "" : " " + m.kind + " " + m.workload.name;
      return fail(workloads[i].file + which + ":\n  " + message);
    }
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
    auto status = host.status(*id);
    std::printf("stratus up: %s %s in %.0f ms", id->c_str(), workload::state_name(status->state), ms);
    for (const auto& r : status->routes) {
      auto slash = r.find('/');
      std::string host_part = r.substr(0, slash), path = r.substr(slash);
      std::printf(", serving %s%s%s", base.c_str(), path.c_str(),
                  host_part == "*" ? "" : (" (Host: " + host_part + ")").c_str());
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::signal(SIGINT, on_up_signal);
  std::signal(SIGTERM, on_up_signal);
  std::printf("stratus up: listening on %s/ (Ctrl-C stops)\n", base.c_str());
  std::fflush(stdout);
  router->run();
  for (const auto& s : host.list()) (void)host.stop(s.id);
  std::printf("stratus up: stopped after %llu requests\n",
              static_cast<unsigned long long>(router->counters().requests.load()));
  return 0;
}

}  // namespace

Subcommand add_up(CLI::App& parent) {
  auto opts = std::make_shared<UpOptions>();
  CLI::App* app = parent.add_subcommand("up", "Run workloads (wasmCloud v2 specs) on this host, serving their HTTP");
  app->add_option("--engine", opts->engine,
                  "Backend: tiered (interp at once, aot once compiled in the background), aot (wasm2c + C "
                  "compiler, cached) or interp")
      ->check(CLI::IsMember({"tiered", "aot", "interp"}))
      ->capture_default_str();
  app->add_option("--cache-dir", opts->cache_dir, "Where aot keeps compiled modules (default ~/.cache/stratus)");
  app->add_option("--addr", opts->addr, "The HTTP listener, HOST:PORT (port 0: any free port)")->capture_default_str();
  app->add_option("--data-dir", opts->data_dir, "Where embedded backends keep data (keyvalue's SQLite file)")
      ->capture_default_str();
  app->add_option("--timeout-ms", opts->timeout_ms, "Per socket read/write and per guest call")->capture_default_str();
  add_observe_options(*app, opts->observe);
  add_image_options(*app, opts->insecure_registries);
  app->add_option(
         "workloads", opts->files,
         "Workload specs (YAML or JSON), or wasmCloud's Workload, WorkloadReplicaSet and WorkloadDeployment manifests")
      ->required();
  return Subcommand{app, [opts] { return up(*opts); }};
}

}  // namespace stratus::cli

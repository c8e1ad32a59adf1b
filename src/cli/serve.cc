// `stratus serve FILE.wasm [--addr 127.0.0.1:8080]`: serves a wasi:http
// proxy component over HTTP/1.1 (serve/http_server.h) until SIGINT or
// SIGTERM, then stops gracefully: in-flight requests finish. Nothing is
// granted unless asked for (--env, --dir, --allow-host, --allow-connect,
// --allow-bind, --allow-lookup).
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <filesystem>

#include "cli/grants.h"
#include "cli/observe.h"
#include "cli/subcommand.h"
#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "serve/http_server.h"
#include "support/file.h"

namespace stratus::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

struct ServeCliOptions {
  std::string engine = "tiered";
  std::string cache_dir;
  std::string addr = "127.0.0.1:8080";
  std::vector<std::string> env, dirs, read_only_dirs, allow_hosts;
  std::vector<std::string> allow_connect, allow_bind, allow_lookup;
  int timeout_ms = 30'000;
  ObserveCliOptions observe;
  std::string file;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "stratus: %s\n", message.c_str());
  return 1;
}

int serve(const ServeCliOptions& o) {
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
  if (auto granted = add_grants(options.wasi, o.env, o.dirs, o.read_only_dirs); !granted)
    return fail(granted.error().message);
  if (auto granted = add_socket_grants(options.wasi, o.allow_connect, o.allow_bind, o.allow_lookup); !granted)
    return fail(granted.error().message);
  options.wasi.allowed_hosts = o.allow_hosts;
  options.wasi.stdout_stream = wasi::p2::fd_output(1);
  options.wasi.stderr_stream = wasi::p2::fd_output(2);
  options.stop_flag = &g_stop;

  auto bytes = read_file(o.file);
  if (!bytes) return fail(bytes.error().message);
  auto component = component::decode_component(*bytes);
  if (!component) return fail(o.file + ": " + component.error().message);
  engine::EngineOptions engine_options;
  engine_options.cache_dir = o.cache_dir;
  engine_options.log = [](const std::string& line) { std::fprintf(stderr, "stratus serve: %s\n", line.c_str()); };
  auto engine = engine::make_engine(o.engine, engine_options);
  if (!engine) return fail(engine.error().message);
  // The component's name in metrics and on the status page: its file's.
  const std::string name = std::filesystem::path(o.file).stem().string();
  Observability observability(**engine);
  if (auto observing = observability.configure(options, o.observe, "serve"); !observing)
    return fail(observing.error().message);
  options.component_name = name;
  if (o.engine == "tiered") {  // compiling for aot starts now, in the background; its lines name the file
    component::Linker linker(**engine);
    if (auto compiled = linker.precompile(*component, name); !compiled)
      return fail(o.file + ": " + compiled.error().message);
  }
  auto server = serve::HttpServer::create(**engine, *component, std::move(options));
  if (!server) return fail(o.file + ": " + server.error().message);
  auto port = (*server)->listen();
  if (!port) return fail(port.error().message);
  // The listener reads the server: it stops first, however this returns.
  struct StopListener {
    Observability& o;
    ~StopListener() { o.stop(); }
  } stop_listener{observability};
  if (!o.observe.metrics_addr.empty()) {
    auto began = std::chrono::steady_clock::now();
    serve::HttpServer& s = **server;
    auto started = observability.start(o.observe.metrics_addr, [&s, name, began] {
      WorkloadView view{name, "RUNNING", "stratus serve", {}};
      return status_document("stratus serve",
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
                             s.counters().requests.load(), {view}, s.route_stats());
    });
    if (!started) return fail(started.error().message);
    std::printf("stratus serve: metrics on %s/metrics, status page on %s/\n", observability.url().c_str(),
                observability.url().c_str());
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::printf("stratus serve: listening on http://%s:%u/\n", o.addr.substr(0, colon).c_str(), *port);
  std::fflush(stdout);
  (*server)->run();
  std::printf("stratus serve: stopped after %llu requests\n",
              static_cast<unsigned long long>((*server)->counters().requests.load()));
  return 0;
}

}  // namespace

Subcommand add_serve(CLI::App& parent) {
  auto opts = std::make_shared<ServeCliOptions>();
  CLI::App* app = parent.add_subcommand("serve", "Serve a wasi:http proxy component over HTTP");
  app->add_option("--engine", opts->engine,
                  "Backend: tiered (interp at once, aot once compiled in the background), aot (wasm2c + C "
                  "compiler, cached) or interp")
      ->check(CLI::IsMember({"tiered", "aot", "interp"}))
      ->capture_default_str();
  app->add_option("--cache-dir", opts->cache_dir, "Where aot keeps compiled modules (default ~/.cache/stratus)");
  app->add_option("--addr", opts->addr, "Address to listen on, HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  app->add_option("--timeout-ms", opts->timeout_ms, "Per socket read/write and per guest call")->capture_default_str();
  app->add_option("--env", opts->env, "Environment variable KEY=VALUE for the guest (repeatable)")
      ->allow_extra_args(false);
  app->add_option("--dir", opts->dirs, "Grant a host directory, HOST[::GUEST] (repeatable)")->allow_extra_args(false);
  app->add_option("--dir-ro", opts->read_only_dirs, "Grant a host directory read-only (repeatable)")
      ->allow_extra_args(false);
  app->add_option("--allow-host", opts->allow_hosts, "Host outbound HTTP may reach (repeatable)")
      ->allow_extra_args(false);
  app->add_option("--allow-connect", opts->allow_connect,
                  "Let wasi:sockets connect or send to ADDR:PORT (ADDR: IPv4, [IPv6] or *; PORT: number or *; "
                  "repeatable)")
      ->allow_extra_args(false);
  app->add_option("--allow-bind", opts->allow_bind,
                  "Let wasi:sockets bind to ADDR:PORT (port 0: any free port; repeatable)")
      ->allow_extra_args(false);
  app->add_option("--allow-lookup", opts->allow_lookup, "Let wasi:sockets resolve NAME, or *.DOMAIN (repeatable)")
      ->allow_extra_args(false);
  add_observe_options(*app, opts->observe);
  app->add_option("file", opts->file, "The wasi:http proxy component")->required();
  return Subcommand{app, [opts] { return serve(*opts); }};
}

}  // namespace stratus::cli

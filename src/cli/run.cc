// `stratus run FILE.wasm [ARGS]`: runs a wasi:cli/command component on the
// WASI 0.2 host, or a WASI preview 1 command module on the preview 1 layer
// (wasi/preview1: args, environment, clocks, random, stdio and the granted
// directories; no sockets), and exits with the guest's exit code (any
// proc_exit code, which the preview 1 adapter would turn into 1). Nothing
// is granted unless asked for: no directory, no environment variable, no socket. A trap exits 134 (SIGABRT's
// shell status, as Wasmtime does); an unreadable, invalid or unlinkable
// component exits 1. `--timeout` and `--max-memory` limit the guest; a guest
// they stopped exits non-zero with a line naming the limit.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/grants.h"
#include "cli/limits.h"
#include "cli/subcommand.h"
#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "wasi/p2/wasi.h"
#include "wasi/preview1/preview1.h"

extern char** environ;

namespace stratus::cli {
namespace {

constexpr int kExitTrap = 134;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct RunOptions {
  std::string engine = "aot";
  std::string cache_dir;
  std::vector<std::string> dirs, read_only_dirs;
  std::vector<std::string> env;
  std::vector<std::string> allow_connect, allow_bind, allow_lookup;
  bool inherit_env = false;
  std::string file;
  std::string argv0;  // the guest's first argument; FILE when empty
  std::vector<std::string> args;
  LimitFlags limits;
};

int fail(const std::string& message, int code) {
  std::fprintf(stderr, "stratus: %s\n", message.c_str());
  return code;
}

bool is_component(const std::vector<uint8_t>& bytes) {
  // The preamble's version and layer: 0d 00 01 00 for a component, 01 00 00 00 for a module.
  return bytes.size() >= 8 && bytes[4] == 0x0d && bytes[5] == 0x00 && bytes[6] == 0x01 && bytes[7] == 0x00;
}

int run_preview1(engine::Engine& engine, const RunOptions& opts, const std::vector<uint8_t>& bytes,
                 const wasi::p2::WasiConfig& grants, const engine::InstanceLimits& limits) {
  // Preview 1 can only use sockets the host preopened, and none are.
  if (!opts.allow_connect.empty() || !opts.allow_bind.empty() || !opts.allow_lookup.empty())
    return fail(opts.file +
                    ": --allow-connect, --allow-bind and --allow-lookup need a component (wasi:sockets); a "
                    "preview 1 module cannot open sockets",
                kExitUsage);
  wasi::preview1::Preview1Config config;
  config.args.push_back(opts.argv0.empty() ? opts.file : opts.argv0);
  config.args.insert(config.args.end(), opts.args.begin(), opts.args.end());
  for (const auto& [k, v] : grants.env) config.env.push_back(k + "=" + v);
  config.dirs = grants.dirs;
  wasi::preview1::CommandOptions command;
  command.name = opts.file;
  command.limits = limits;
  auto outcome = wasi::preview1::execute_command(engine, bytes, std::move(config), command);
  return finish_preview1(opts.file, outcome, opts.limits);
}

int run(const RunOptions& opts) {
  wasi::p2::WasiConfig config;
  if (opts.inherit_env) {
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      if (eq != std::string::npos) config.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  if (auto granted = add_grants(config, opts.env, opts.dirs, opts.read_only_dirs); !granted)
    return fail(granted.error().message, kExitUsage);
  if (auto granted = add_socket_grants(config, opts.allow_connect, opts.allow_bind, opts.allow_lookup); !granted)
    return fail(granted.error().message, kExitUsage);

  auto limits = opts.limits.parse();
  if (!limits) return fail(limits.error().message, kExitUsage);

  auto bytes = read_file(opts.file);
  if (!bytes) return fail(bytes.error().message, kExitError);
  engine::EngineOptions engine_options;
  engine_options.cache_dir = opts.cache_dir;
  auto engine = engine::make_engine(opts.engine, engine_options);
  if (!engine) return fail(engine.error().message, kExitError);
  if (!is_component(*bytes)) return run_preview1(**engine, opts, *bytes, config, *limits);

  auto component = component::decode_component(*bytes);
  if (!component) return fail(opts.file + ": " + component.error().message, kExitError);
  config.args.push_back(opts.argv0.empty() ? opts.file : opts.argv0);
  config.args.insert(config.args.end(), opts.args.begin(), opts.args.end());
  config.stdin_stream = wasi::p2::fd_input(0);
  config.stdout_stream = wasi::p2::fd_output(1);
  config.stderr_stream = wasi::p2::fd_output(2);
  config.stdin_terminal = ::isatty(0) != 0;
  config.stdout_terminal = ::isatty(1) != 0;
  config.stderr_terminal = ::isatty(2) != 0;
  component::InstantiateOptions options;
  options.allow_sync_cancel_in_waitable_set = true;  // component/runtime/runtime.h: older toolchains' components
  options.limits = *limits;
  if (opts.engine == "tiered") {  // its lines name the file; the aot compile outlives the run (for the next)
    component::Linker linker(**engine);
    if (auto compiled = linker.precompile(*component, std::filesystem::path(opts.file).filename().string()); !compiled)
      return fail(opts.file + ": " + compiled.error().message, kExitError);
  }
  auto outcome = wasi::p2::run_command(**engine, *component, std::move(config), options);
  const LimitFlags& flags = opts.limits;
  if (!outcome) return fail(opts.file + ": " + with_note(outcome.error().message, flags.note(nullptr)), kExitError);
  if (outcome->trap)
    return fail(opts.file + ": " + with_note("trap: " + outcome->trap->message, flags.note(&*outcome->trap)),
                kExitTrap);
  return exit_code_under_limits(opts.file, outcome->exit_code, flags);
}

}  // namespace

Subcommand add_run(CLI::App& parent) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* app = parent.add_subcommand("run", "Run a wasi:cli/command component (or a WASI preview 1 module)");
  app->add_option("--engine", opts->engine,
                  "Backend: aot (wasm2c + C compiler, cached), interp, or tiered (interp while aot compiles "
                  "in the background for the next run)")
      ->check(CLI::IsMember({"aot", "interp", "tiered"}))
      ->capture_default_str();
  app->add_option("--cache-dir", opts->cache_dir, "Where aot keeps compiled modules (default ~/.cache/stratus)");
  app->add_option("--dir", opts->dirs, "Grant a host directory, HOST[::GUEST] (repeatable)")->allow_extra_args(false);
  app->add_option("--dir-ro", opts->read_only_dirs, "Grant a host directory read-only, HOST[::GUEST] (repeatable)")
      ->allow_extra_args(false);
  app->add_option("--env", opts->env, "Environment variable KEY=VALUE for the guest (repeatable)")
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
  app->add_flag("--inherit-env", opts->inherit_env, "Give the guest this process's whole environment");
  app->add_option("--argv0", opts->argv0, "The guest's first argument (default: FILE as given)");
  add_limit_flags(*app, opts->limits);
  app->add_option("file", opts->file, "The .wasm component (or preview 1 module)")->required();
  app->add_option("args", opts->args, "Arguments for the guest (everything after FILE)");
  app->positionals_at_end();
  return Subcommand{app, [opts] { return run(*opts); }};
}

}  // namespace stratus::cli

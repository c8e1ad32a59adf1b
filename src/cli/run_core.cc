// `stratus run-core`: runs a WASI preview 1 command module (core Wasm) and
// exits with its exit code. A trap exits 134 (SIGABRT's shell status, as
// Wasmtime does); an unreadable or invalid module exits 1. `--timeout` and
// `--max-memory` limit the guest (cli/limits.h).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/grants.h"
#include "cli/limits.h"
#include "cli/subcommand.h"
#include "engine/engine.h"
#include "support/file.h"
#include "wasi/preview1/preview1.h"

namespace stratus::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct RunCoreOptions {
  std::string engine = "aot";
  std::string cache_dir;
  std::vector<std::string> env;
  std::string file;
  std::vector<std::string> args;
  LimitFlags limits;
};

int fail(const std::string& message, int code) {
  std::fprintf(stderr, "stratus: %s\n", message.c_str());
  return code;
}

int run_core(const RunCoreOptions& opts) {
  if (auto env = check_env(opts.env); !env) return fail(env.error().message, kExitUsage);
  auto limits = opts.limits.parse();
  if (!limits) return fail(limits.error().message, kExitUsage);

  auto bytes = read_file(opts.file);
  if (!bytes) return fail(bytes.error().message, kExitError);

  engine::EngineOptions engine_options;
  engine_options.cache_dir = opts.cache_dir;
  auto engine = engine::make_engine(opts.engine, engine_options);
  if (!engine) return fail(engine.error().message, kExitError);

  wasi::preview1::Preview1Config config;
  config.args.push_back(opts.file);  // argv[0], as a native program would see it
  config.args.insert(config.args.end(), opts.args.begin(), opts.args.end());
  config.env = opts.env;

  wasi::preview1::CommandOptions command;
  command.name = opts.file;
  command.limits = *limits;
  auto outcome = wasi::preview1::execute_command(**engine, *bytes, std::move(config), command);
  return finish_preview1(opts.file, outcome, opts.limits);
}

}  // namespace

Subcommand add_run_core(CLI::App& parent) {
  auto opts = std::make_shared<RunCoreOptions>();
  CLI::App* app = parent.add_subcommand("run-core", "Run a WASI preview 1 command module (core Wasm)");
  app->add_option("--engine", opts->engine, "Backend: aot (wasm2c + C compiler, cached) or interp")
      ->check(CLI::IsMember({"aot", "interp"}))
      ->capture_default_str();
  app->add_option("--cache-dir", opts->cache_dir, "Where aot keeps compiled modules (default ~/.cache/stratus)");
  app->add_option("--env", opts->env, "Environment variable KEY=VALUE for the guest (repeatable)")
      ->allow_extra_args(false);
  add_limit_flags(*app, opts->limits);
  app->add_option("file", opts->file, "The .wasm command module")->required();
  app->add_option("args", opts->args, "Arguments for the guest (everything after FILE)");
  // Everything after FILE belongs to the guest, even words that look like options.
  app->positionals_at_end();
  return Subcommand{app, [opts] { return run_core(*opts); }};
}

}  // namespace stratus::cli

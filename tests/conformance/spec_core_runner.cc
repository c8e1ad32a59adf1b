// spec_core_runner: runs the WebAssembly core spec tests (the .wast scripts of
// WebAssembly/testsuite) on one stratus engine backend.
//
//   spec_core_runner --engine aot|interp [--fixtures DIR] [--filter SUBSTRING]
//                    [--work-dir DIR] [--cache-dir DIR] [--verbose]
//
// Each script is converted by wast2json into a scratch folder, then every
// command is run through the engine interface only. Exit code 1 if anything failed.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "script_runner.h"

extern char** environ;

namespace fs = std::filesystem;
using stratus::conformance::ScriptOutcome;
using stratus::conformance::ScriptRunner;

namespace {

constexpr size_t kFailuresShown = 5;

struct Options {
  std::string engine = "interp";
  fs::path fixtures = STRATUS_SPEC_CORE_DIR;
  fs::path work_dir = STRATUS_CONFORMANCE_WORK_DIR;
  std::string filter;
  std::string cache_dir;
  bool verbose = false;
};

int usage(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: spec_core_runner --engine aot|interp [--fixtures DIR] [--filter SUBSTRING] "
               "[--work-dir DIR] [--cache-dir DIR] [--verbose]\n",
               message);
  return 2;
}

// Runs wast2json; its messages go to a log next to the output.
stratus::Result<fs::path> convert(const fs::path& wast, const fs::path& out_dir) {
  std::error_code ec;
  fs::remove_all(out_dir, ec);
  fs::create_directories(out_dir, ec);
  if (ec) return stratus::make_error("cannot create " + out_dir.string() + ": " + ec.message());
  fs::path json = out_dir / (wast.stem().string() + ".json");
  fs::path log = out_dir / "wast2json.log";

  std::string wast_s = wast.string(), json_s = json.string(), log_s = log.string();
  std::vector<char*> argv = {const_cast<char*>("wast2json"), wast_s.data(), const_cast<char*>("-o"), json_s.data(),
                             nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "wast2json", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return stratus::make_error(std::string("cannot run wast2json: ") + std::strerror(rc));
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return stratus::make_error("wast2json failed on " + wast.string() + " (see " + log.string() + ")");
  }
  return json;
}

}  // namespace

int run_main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](const char* what) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)what;
      return argv[++i];
    };
    const char* value = nullptr;
    if (arg == "--verbose") {
      opt.verbose = true;
    } else if (arg == "--engine" || arg == "--fixtures" || arg == "--filter" || arg == "--cache-dir" ||
               arg == "--work-dir") {
      if (!(value = next(arg.c_str()))) return usage(("missing value for " + arg).c_str());
      if (arg == "--engine") opt.engine = value;
      if (arg == "--fixtures") opt.fixtures = value;
      if (arg == "--filter") opt.filter = value;
      if (arg == "--cache-dir") opt.cache_dir = value;
      if (arg == "--work-dir") opt.work_dir = value;
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }

  stratus::engine::EngineOptions engine_options;
  engine_options.cache_dir = opt.cache_dir;
  auto engine = stratus::engine::make_engine(opt.engine, engine_options);
  if (!engine) {
    std::fprintf(stderr, "spec-core: %s\n", engine.error().message.c_str());
    return 2;
  }

  std::vector<fs::path> scripts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(opt.fixtures, ec)) {
    const auto& path = entry.path();
    if (path.extension() != ".wast") continue;
    if (!opt.filter.empty() && path.filename().string().find(opt.filter) == std::string::npos) continue;
    scripts.push_back(path);
  }
  if (ec) {
    std::fprintf(stderr, "spec-core: cannot read %s: %s\n", opt.fixtures.c_str(), ec.message().c_str());
    return 2;
  }
  if (scripts.empty()) {
    std::fprintf(stderr, "spec-core: no .wast scripts in %s matching '%s'\n", opt.fixtures.c_str(), opt.filter.c_str());
    return 2;
  }
  std::sort(scripts.begin(), scripts.end());

  auto started = std::chrono::steady_clock::now();
  ScriptOutcome total;
  int failed_scripts = 0;
  for (const auto& wast : scripts) {
    std::string name = wast.filename().string();
    auto script_started = std::chrono::steady_clock::now();
    ScriptOutcome outcome;
    auto json_path = convert(wast, opt.work_dir / opt.engine / wast.stem());
    nlohmann::json script;
    if (json_path) {
      std::ifstream in(*json_path);
      script = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    }
    if (!json_path || script.is_discarded() || !script.contains("commands")) {
      ++outcome.failed;
      outcome.failures.push_back(json_path ? "cannot parse " + json_path->string() : json_path.error().message);
    } else {
      // A JSON shape we do not expect fails the script, not the whole run.
      try {
        ScriptRunner runner(**engine, name, json_path->parent_path());
        outcome = runner.run(script);
      } catch (const std::exception& e) {
        outcome = ScriptOutcome{};
        ++outcome.failed;
        outcome.failures.push_back(std::string("unexpected script JSON: ") + e.what());
      }
    }

    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - script_started).count();
    if (outcome.failed) {
      ++failed_scripts;
      std::printf("FAIL %s: %d failed, %d passed, %d skipped\n", name.c_str(), outcome.failed, outcome.passed,
                  outcome.skipped);
      for (size_t i = 0; i < outcome.failures.size() && i < kFailuresShown; ++i) {
        std::printf("  %s:%s\n", name.c_str(), outcome.failures[i].c_str());
      }
      if (outcome.failures.size() > kFailuresShown) {
        std::printf("  ... and %zu more\n", outcome.failures.size() - kFailuresShown);
      }
    } else if (opt.verbose) {
      std::printf("ok   %s: %d passed, %d skipped (%.2f s)\n", name.c_str(), outcome.passed, outcome.skipped, secs);
    }
    std::fflush(stdout);
    total.passed += outcome.passed;
    total.failed += outcome.failed;
    total.skipped += outcome.skipped;
    for (const auto& [reason, count] : outcome.skip_reasons) total.skip_reasons[reason] += count;
  }

  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("spec-core [%s]: %d passed, %d failed, %d skipped (%zu scripts, %d with failures, %.1f s)\n",
              opt.engine.c_str(), total.passed, total.failed, total.skipped, scripts.size(), failed_scripts, secs);
  std::vector<std::pair<int, std::string>> reasons;
  for (const auto& [reason, count] : total.skip_reasons) reasons.emplace_back(count, reason);
  std::sort(reasons.rbegin(), reasons.rend());
  for (const auto& [count, reason] : reasons) std::printf("  skipped %6d: %s\n", count, reason.c_str());
  return total.failed ? 1 : 0;
}

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spec-core: %s\n", e.what());
    return 2;
  }
}

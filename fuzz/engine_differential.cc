// Differential fuzzing of the two engine backends. binaryen's translate-to-fuzz
// (`wasm-opt -ttf`) turns the input bytes into a valid module; both backends
// run it (instantiate, then every exported function with zero arguments,
// binaryen's fuzz-exec protocol) and any difference in results, logged
// values or trap kind aborts. NaNs are removed by `--denan`, since their bit
// patterns may legitimately differ between engines.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"

extern char** environ;

using namespace stratus::engine;

namespace {

std::unique_ptr<Engine> g_aot;
std::unique_ptr<Engine> g_interp;
std::filesystem::path g_dir;

// Runs wasm-opt -ttf on `seed`; empty on failure.
std::vector<uint8_t> generate_module(std::span<const uint8_t> seed) {
  const auto in = g_dir / "seed.bin";
  const auto out = g_dir / "module.wasm";
  {
    std::ofstream f(in, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(seed.data()), static_cast<std::streamsize>(seed.size()));
  }
  std::filesystem::remove(out);
  std::vector<std::string> args = {"wasm-opt",
                                   in.string(),
                                   "-ttf",
                                   "--denan",
                                   "--disable-simd",
                                   "--enable-bulk-memory",
                                   "--enable-sign-ext",
                                   "--enable-nontrapping-float-to-int",
                                   "--enable-mutable-globals",
                                   "--enable-multivalue",
                                   "-o",
                                   out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);  // de-nan warnings
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "wasm-opt", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {};
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  std::ifstream f(out, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// One backend's observable behaviour, as text lines.
struct Run {
  std::vector<std::string> events;
  bool resource_limited = false;  // exhaustion or deadline: depth and speed differ by design
  std::string detail;             // error text, shown on a difference but not compared
};

std::string describe_trap(const Trap& trap) { return "trap " + std::string(to_string(trap.kind)); }

Run run_on(Engine& engine, std::span<const uint8_t> bytes) {
  Run run;
  auto module = engine.compile(bytes, {.name = "differential"});
  if (!module.ok()) {
    run.events.push_back("compile error");
    run.detail = module.error().message;
    return run;
  }
  std::vector<ImportValue> imports;
  for (const auto& import : (*module)->imports()) {
    auto* type = std::get_if<FuncType>(&import.type);
    if (type == nullptr) {
      run.events.push_back("unexpected non-function import " + import.name);
      return run;
    }
    const std::string name = import.name;
    const FuncType ft = *type;
    imports.push_back(
        {import.module, import.name,
         engine.host_func(ft, [&run, name, ft](Caller&, std::span<const Value> args, std::span<Value> results) {
           std::string line = name;
           for (const auto& a : args) line += " " + a.to_string();
           run.events.push_back(line);
           for (size_t i = 0; i < results.size(); ++i) results[i] = Value::zero(ft.results[i]);
           return std::optional<Trap>();
         })});
  }
  InstanceLimits limits;
  limits.max_memory_bytes = 64ull << 20;
  limits.max_call_depth = 300;
  limits.call_timeout = std::chrono::seconds(2);
  auto made = engine.instantiate(*module, imports, limits);
  if (auto* trap = std::get_if<Trap>(&made)) {
    run.events.push_back("instantiate " + describe_trap(*trap));
    run.resource_limited = trap->kind == TrapKind::StackExhausted || trap->kind == TrapKind::Deadline;
    return run;
  }
  if (std::holds_alternative<stratus::Error>(made)) {
    run.events.push_back("instantiate error");
    return run;
  }
  auto instance = std::get<std::shared_ptr<Instance>>(made);
  auto hang_limit = instance->func("hangLimitInitializer");
  for (const auto& exp : (*module)->exports()) {
    auto* type = std::get_if<FuncType>(&exp.type);
    if (type == nullptr || exp.name == "hangLimitInitializer") continue;
    if (hang_limit) (void)hang_limit->call({});
    std::vector<Value> args;
    for (auto p : type->params) args.push_back(Value::zero(p));
    auto result = instance->call(exp.name, args);
    std::string line = "call " + exp.name + ": ";
    if (result.ok()) {
      for (const auto& v : result.values()) line += v.to_string() + " ";
    } else if (result.trapped()) {
      line += describe_trap(result.trap());
      if (result.trap().kind == TrapKind::StackExhausted || result.trap().kind == TrapKind::Deadline) {
        run.events.push_back(line);
        run.resource_limited = true;
        return run;
      }
    } else {
      line += "error " + result.error().message;
    }
    run.events.push_back(line);
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_dir = std::filesystem::temp_directory_path() / ("stratus-differential-" + std::to_string(getpid()));
  std::filesystem::create_directories(g_dir);
  EngineOptions aot;
  aot.cache_dir = (g_dir / "cache").string();
  aot.opt_level = 1;  // compile time dominates this target; -O1 keeps it down
  aot.progress_after = std::chrono::hours(1);
  auto a = make_engine("aot", aot);
  auto i = make_engine("interp");
  if (!a.ok() || !i.ok()) {
    std::fprintf(stderr, "cannot make engines\n");
    std::abort();
  }
  g_aot = std::move(a).value();
  g_interp = std::move(i).value();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  auto module = generate_module({data, size});
  if (module.empty()) return 0;
  Run interp = run_on(*g_interp, module);
  Run aot = run_on(*g_aot, module);
  // Past the first resource-limit trap on either side the runs may diverge.
  size_t n = std::min(interp.events.size(), aot.events.size());
  if (!interp.resource_limited && !aot.resource_limited && interp.events.size() != aot.events.size()) {
    n = std::max(interp.events.size(), aot.events.size());
  }
  if (interp.resource_limited || aot.resource_limited) n = n == 0 ? 0 : n - 1;
  for (size_t k = 0; k < n; ++k) {
    const std::string a = k < aot.events.size() ? aot.events[k] : "<none>";
    const std::string b = k < interp.events.size() ? interp.events[k] : "<none>";
    if (a != b) {
      std::fprintf(stderr, "backends differ at event %zu:\n  aot:    %s %s\n  interp: %s %s\n", k, a.c_str(),
                   aot.detail.c_str(), b.c_str(), interp.detail.c_str());
      std::abort();
    }
  }
  return 0;
}

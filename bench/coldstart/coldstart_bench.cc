// bench/coldstart: the time to the first result of a big module from an
// empty aot cache (issue #11 item 1: "the first response of the 2 MB
// component in under 0.5 s from an empty cache, and no slower than pure
// aot once compiled"). The module is generated: FUNCS functions of OPS
// arithmetic steps each, and `run`, which calls them all. Rows:
//   first/tiered   compile + instantiate + first `run` on the tiered engine
//                  (the interpreter while aot compiles); goal <= 0.5 s
//   first/aot      the same on aot (the C compiler, cold cache)
//   first/interp   the same on the interpreter
//   ready/tiered   how long tiered took to be on aot (background compile)
//   steady/tiered  ns per `run` on tiered once on aot, against pure aot
//                  (goal <= 1.05: the same code)
//
//   coldstart_bench CACHE_DIR [FUNCS [OPS]]
// Each engine gets its own empty cache under CACHE_DIR.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_line.h"
#include "engine/engine.h"
#include "engine/tiered/tiered_engine.h"
#include "tests/support/wat.h"

using namespace stratus;
using namespace stratus::engine;
using Clock = std::chrono::steady_clock;

namespace {

std::string big_module(int funcs, int ops) {
  std::string wat = "(module\n";
  for (int f = 0; f < funcs; ++f) {
    wat += "  (func $f" + std::to_string(f) + " (param $x i32) (result i32)\n";
    for (int i = 0; i < ops; ++i) {
      int k = (f * 31 + i * 7) % 4;
      std::string c = std::to_string((f * 131 + i * 17) % 1000 + 1);
      const char* op = k == 0 ? "i32.add" : k == 1 ? "i32.mul" : k == 2 ? "i32.xor" : "i32.rotl";
      wat += "    (local.set $x (" + std::string(op) + " (local.get $x) (i32.const " + c + ")))\n";
    }
    wat += "    (local.get $x))\n";
  }
  wat += "  (func (export \"run\") (param $x i32) (result i32)\n";
  for (int f = 0; f < funcs; ++f) wat += "    (local.set $x (call $f" + std::to_string(f) + " (local.get $x)))\n";
  wat += "    (local.get $x)))\n";
  return wat;
}

struct First {
  double seconds = -1;
  uint32_t result = 0;
  std::shared_ptr<Module> module;
  std::shared_ptr<Instance> instance;
};

// Compile, instantiate (on the tier the engine offers now, as the
// component layer does) and the first call.
First first_call(Engine& engine, const std::vector<uint8_t>& bytes) {
  First out;
  auto began = Clock::now();
  auto module = engine.compile(bytes, {.name = "coldstart"});
  if (!module) {
    std::fprintf(stderr, "compile: %s\n", module.error().message.c_str());
    return out;
  }
  Engine& tier = engine.tier_for(**module);
  auto on = engine.on_tier(*module, tier);
  if (!on) return out;
  auto made = tier.instantiate(*on, {});
  auto* instance = std::get_if<std::shared_ptr<Instance>>(&made);
  if (instance == nullptr) return out;
  Value arg = Value::i32(1);
  auto r = (*instance)->call("run", std::span<const Value>(&arg, 1));
  if (!r.ok()) {
    std::fprintf(stderr, "run: %s\n", r.describe().c_str());
    return out;
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - began).count();
  out.result = r.values()[0].i32();
  out.module = *module;
  out.instance = *instance;
  return out;
}

double ns_per_run(Instance& instance, double min_seconds = 1.0) {
  Value arg = Value::i32(1);
  for (uint64_t n = 1;; n *= 2) {
    auto began = Clock::now();
    for (uint64_t i = 0; i < n; ++i)
      if (!instance.call("run", std::span<const Value>(&arg, 1)).ok()) return -1;
    double s = std::chrono::duration<double>(Clock::now() - began).count();
    if (s >= min_seconds) return s * 1e9 / static_cast<double>(n);
  }
}

std::unique_ptr<Engine> engine_named(const std::string& name, const std::filesystem::path& cache) {
  std::filesystem::remove_all(cache);
  EngineOptions options;
  options.cache_dir = cache.string();
  options.progress_after = std::chrono::hours(1);
  options.log = [](const std::string& line) { std::printf("  (%s)\n", line.c_str()); };
  auto made = make_engine(name, options);
  if (!made) {
    std::fprintf(stderr, "%s\n", made.error().message.c_str());
    std::exit(1);
  }
  return std::move(*made);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: coldstart_bench CACHE_DIR [FUNCS [OPS]]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int funcs = argc > 2 ? std::atoi(argv[2]) : 300;
  const int ops = argc > 3 ? std::atoi(argv[3]) : 150;
  auto bytes = testing::wat_to_wasm(big_module(funcs, ops));
  if (!bytes) {
    std::fprintf(stderr, "%s\n", bytes.error().message.c_str());
    return 1;
  }
  std::printf("bench/coldstart: a module of %d functions x %d steps, %zu bytes, empty caches\n", funcs, ops,
              bytes->size());

  auto interp = engine_named("interp", dir / "interp");
  First on_interp = first_call(*interp, *bytes);
  std::printf("  first/interp   %8.3f s\n", on_interp.seconds);

  auto tiered = engine_named("tiered", dir / "tiered");
  First on_tiered = first_call(*tiered, *bytes);
  std::printf("  first/tiered   %8.3f s  (on %s)\n", on_tiered.seconds,
              on_tiered.module ? std::string(tiered->tier_for(*on_tiered.module).name()).c_str() : "?");
  auto wait_began = Clock::now();
  wait_for_tiers(*tiered);
  double ready = on_tiered.seconds + std::chrono::duration<double>(Clock::now() - wait_began).count();
  bool on_aot = on_tiered.module && tier_state(*tiered, *on_tiered.module) == TierState::Ready;
  std::printf("  ready/tiered   %8.3f s  (%s)\n", ready, on_aot ? "on aot" : "aot failed");

  auto aot = engine_named("aot", dir / "aot");
  First on_aot_first = first_call(*aot, *bytes);
  std::printf("  first/aot      %8.3f s\n", on_aot_first.seconds);

  if (on_interp.seconds < 0 || on_tiered.seconds < 0 || on_aot_first.seconds < 0 || !on_aot) return 1;
  if (on_interp.result != on_tiered.result || on_aot_first.result != on_tiered.result) {
    std::fprintf(stderr, "results differ: interp %u, tiered %u, aot %u\n", on_interp.result, on_tiered.result,
                 on_aot_first.result);
    return 1;
  }

  // Steady state: a new instance on tiered's aot tier against pure aot's.
  First tiered_aot = first_call(*tiered, *bytes);
  if (tiered_aot.seconds < 0 || tiered->tier_for(*tiered_aot.module).name() != "aot") return 1;
  double ns_tiered = ns_per_run(*tiered_aot.instance);
  double ns_aot = ns_per_run(*on_aot_first.instance);
  std::printf("  steady/tiered  %8.0f ns per run, pure aot %.0f ns\n", ns_tiered, ns_aot);

  bench::bench_line("coldstart/first-tiered", on_tiered.seconds, "s", on_tiered.seconds / 0.5, "goal", 0.5, "<=1");
  bench::bench_line("coldstart/first-aot", on_aot_first.seconds, "s", on_aot_first.seconds / on_tiered.seconds,
                    "first-tiered", on_tiered.seconds, "");
  bench::bench_line("coldstart/first-interp", on_interp.seconds, "s", on_interp.seconds / on_tiered.seconds,
                    "first-tiered", on_tiered.seconds, "");
  bench::bench_line("coldstart/ready-tiered", ready, "s", ready / on_aot_first.seconds, "first-aot",
                    on_aot_first.seconds, "");
  bench::bench_line("coldstart/steady-tiered", ns_tiered, "ns", ns_tiered / ns_aot, "aot", ns_aot, "<=1.05");
  std::filesystem::remove_all(dir);
  return 0;
}

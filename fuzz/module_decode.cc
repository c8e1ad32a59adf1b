// Fuzzes the paths that take untrusted module bytes: decoding, validation,
// import/export listing, and (for modules that validate) instantiation with
// stub imports and calls of every export under tight limits, on the
// interpreter. The AOT backend's front half (instrumentation and C
// generation) runs too, with a "compiler" that does nothing, so no time goes
// into compiling C. Exception handling is on, as for components' core
// modules, so try_table lowering (eh_lower.h) and tags are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "engine/engine.h"

using namespace stratus::engine;

namespace {

std::unique_ptr<Engine> g_interp;
std::unique_ptr<Engine> g_aot_front;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_interp = std::move(make_engine("interp")).value();
  EngineOptions aot;
  aot.c_compiler = "/bin/true";
  aot.cache_dir = "/tmp/stratus-fuzz-module-decode-cache";
  aot.progress_after = std::chrono::hours(1);
  g_aot_front = std::move(make_engine("aot", aot)).value();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  // The AOT front end must reject or translate, never crash; its "compiler"
  // produces nothing, so success is impossible and failure is expected.
  const CompileOptions options{.name = "fuzz", .exceptions = true};
  (void)g_aot_front->compile(bytes, options);

  auto module = g_interp->compile(bytes, options);
  if (!module.ok()) return 0;
  std::vector<ImportValue> imports;
  for (const auto& import : (*module)->imports()) {
    Extern value;
    if (auto* func = std::get_if<FuncType>(&import.type)) {
      // A stub returns zeros of the declared result types.
      FuncType type = *func;
      value = g_interp->host_func(type, [type](Caller&, std::span<const Value>, std::span<Value> results) {
        for (size_t i = 0; i < results.size(); ++i) results[i] = Value::zero(type.results[i]);
        return std::optional<Trap>();
      });
    } else if (auto* mem = std::get_if<MemoryType>(&import.type)) {
      auto m = g_interp->host_memory(*mem);
      if (!m.ok()) return 0;
      value = *m;
    } else if (auto* table = std::get_if<TableType>(&import.type)) {
      auto t = g_interp->host_table(*table);
      if (!t.ok()) return 0;
      value = *t;
    } else if (auto* global = std::get_if<GlobalType>(&import.type)) {
      auto g = g_interp->host_global(*global, Value::zero(global->type));
      if (!g.ok()) return 0;
      value = *g;
    }
    imports.push_back({import.module, import.name, value});
  }
  InstanceLimits limits;
  limits.max_memory_bytes = 64ull << 20;
  limits.max_call_depth = 500;
  limits.call_timeout = std::chrono::milliseconds(100);
  auto result = g_interp->instantiate(*module, imports, limits);
  auto* instance = std::get_if<std::shared_ptr<Instance>>(&result);
  if (instance == nullptr) return 0;
  for (const auto& exp : (*module)->exports()) {
    auto* type = std::get_if<FuncType>(&exp.type);
    if (type == nullptr) continue;
    std::vector<Value> args;
    for (auto p : type->params) args.push_back(Value::zero(p));
    (void)(*instance)->call(exp.name, args);
  }
  return 0;
}

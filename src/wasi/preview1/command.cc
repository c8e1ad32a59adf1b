// run_command: the whole life of a WASI preview 1 command module.
#include "wasi/preview1/preview1.h"

namespace stratus::wasi::preview1 {

std::string describe(const engine::Trap& trap) {
  std::string out = "trap: " + std::string(engine::to_string(trap.kind));
  if (!trap.message.empty()) out += ": " + trap.message;
  return out;
}

CommandOutcome execute_command(engine::Engine& engine, std::span<const uint8_t> bytes, Preview1Config config,
                               const CommandOptions& options) {
  auto module = engine.compile(bytes, engine::CompileOptions{options.name});
  if (!module) return std::move(module).error();

  Preview1 wasi(std::move(config));
  auto imports = wasi.imports_for(engine, **module);
  if (!imports) return std::move(imports).error();

  auto made = engine.instantiate(*module, *imports, options.limits);
  if (auto* trap = std::get_if<engine::Trap>(&made)) {
    // proc_exit from a start function is still an exit.
    if (trap->kind == engine::TrapKind::Exit) return trap->exit_code;
    return std::move(*trap);
  }
  if (auto* error = std::get_if<Error>(&made)) return std::move(*error);
  auto instance = std::get<std::shared_ptr<engine::Instance>>(std::move(made));

  auto start = instance->func("_start");
  if (!start) return make_error("no exported function '_start' (is it a WASI command, not a reactor?)");
  if (!start->type().params.empty() || !start->type().results.empty())
    return make_error("'_start' has type " + engine::to_string(start->type()) + ", expected () -> ()");

  engine::CallResult result = start->call({});
  if (result.ok()) return 0;
  if (result.trapped()) {
    if (result.trap().kind == engine::TrapKind::Exit) return result.trap().exit_code;
    return result.trap();
  }
  return result.error();
}

Result<int> run_command(engine::Engine& engine, std::span<const uint8_t> bytes, Preview1Config config,
                        const CommandOptions& options) {
  CommandOutcome outcome = execute_command(engine, bytes, std::move(config), options);
  if (auto* code = std::get_if<int>(&outcome)) return *code;
  if (auto* trap = std::get_if<engine::Trap>(&outcome)) return make_error(describe(*trap));
  return std::get<Error>(std::move(outcome));
}

}  // namespace stratus::wasi::preview1

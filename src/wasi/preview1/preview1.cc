// Preview1: links a module's wasi_snapshot_preview1 imports to host functions.
#include "wasi/preview1/preview1.h"

#include <algorithm>

#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

using engine::FuncType;
using engine::ValType;

constexpr ValType I32 = ValType::I32;
constexpr ValType I64 = ValType::I64;

FuncType errno_fn(std::vector<ValType> params) { return FuncType{std::move(params), {I32}}; }

}  // namespace

State::State(const Preview1Config& config) : args(config.args), env(config.env) {
  fds[0] = HostFd{config.stdin_fd, true, true, false};
  fds[1] = HostFd{config.stdout_fd, true, false, true};
  fds[2] = HostFd{config.stderr_fd, true, false, true};
}

HostFd* State::fd(uint32_t fd) {
  if (fd >= fds.size() || !fds[fd].open) return nullptr;
  return &fds[fd];
}

const std::vector<CallSpec>& implemented_calls() {
  static const std::vector<CallSpec> calls = {
      {"args_get", errno_fn({I32, I32}), &args_get},
      {"args_sizes_get", errno_fn({I32, I32}), &args_sizes_get},
      {"environ_get", errno_fn({I32, I32}), &environ_get},
      {"environ_sizes_get", errno_fn({I32, I32}), &environ_sizes_get},
      {"clock_res_get", errno_fn({I32, I32}), &clock_res_get},
      {"clock_time_get", errno_fn({I32, I64, I32}), &clock_time_get},
      {"random_get", errno_fn({I32, I32}), &random_get},
      {"fd_write", errno_fn({I32, I32, I32, I32}), &fd_write},
      {"fd_read", errno_fn({I32, I32, I32, I32}), &fd_read},
      {"fd_close", errno_fn({I32}), &fd_close},
      {"fd_fdstat_get", errno_fn({I32, I32}), &fd_fdstat_get},
      {"fd_seek", errno_fn({I32, I64, I32, I32}), &fd_seek},
      {"fd_prestat_get", errno_fn({I32, I32}), &fd_prestat_get},
      {"fd_prestat_dir_name", errno_fn({I32, I32, I32}), &fd_prestat_dir_name},
      {"proc_exit", FuncType{{I32}, {}}, &proc_exit},
      {"sched_yield", errno_fn({}), &sched_yield},
      {"poll_oneoff", errno_fn({I32, I32, I32, I32}), &poll_oneoff},
  };
  return calls;
}

Preview1::Preview1(Preview1Config config) : state_(std::make_shared<State>(config)) {}
Preview1::~Preview1() = default;

Result<std::vector<engine::ImportValue>> Preview1::imports_for(engine::Engine& engine, const engine::Module& module) {
  std::vector<engine::ImportValue> out;
  const auto& calls = implemented_calls();
  for (const auto& import : module.imports()) {
    if (import.module != kModuleName) continue;
    std::string where = std::string(kModuleName) + "." + import.name;
    const auto* type = std::get_if<FuncType>(&import.type);
    if (type == nullptr)
      return make_error(where + ": imported as a " + std::string(engine::to_string(engine::kind_of(import.type))) +
                        ", but WASI provides only functions");

    auto spec = std::find_if(calls.begin(), calls.end(), [&](const CallSpec& c) { return c.name == import.name; });
    engine::HostCallback callback;
    if (spec != calls.end()) {
      if (spec->type != *type)
        return make_error(where + ": imported with type " + engine::to_string(*type) + ", expected " +
                          engine::to_string(spec->type));
      // The callback holds the state, so instances may outlive this Preview1.
      callback = [state = state_, fn = spec->fn, arity = type->params.size()](
                     engine::Caller& caller, std::span<const engine::Value> args,
                     std::span<engine::Value> results) -> std::optional<engine::Trap> {
        if (args.size() != arity) return engine::Trap{engine::TrapKind::HostError, "wasi: wrong argument count", 0};
        GuestMemory memory(caller.memory());
        Outcome outcome = fn(*state, memory, args);
        if (auto* trap = std::get_if<engine::Trap>(&outcome)) return std::move(*trap);
        if (!results.empty()) results[0] = engine::Value::i32(static_cast<uint16_t>(std::get<Errno>(outcome)));
        return std::nullopt;
      };
    } else if (type->results == std::vector<ValType>{I32}) {
      // Every preview 1 function returns an errno: an unimplemented one says ENOSYS.
      callback = [](engine::Caller&, std::span<const engine::Value>,
                    std::span<engine::Value> results) -> std::optional<engine::Trap> {
        results[0] = engine::Value::i32(static_cast<uint16_t>(Errno::Nosys));
        return std::nullopt;
      };
    } else {
      // Not a preview 1 signature; link it anyway so the program runs until it calls it.
      callback = [where](engine::Caller&, std::span<const engine::Value>,
                         std::span<engine::Value>) -> std::optional<engine::Trap> {
        return engine::Trap{engine::TrapKind::HostError, where + " is not implemented", 0};
      };
    }
    out.push_back(engine::ImportValue{import.module, import.name, engine.host_func(*type, std::move(callback))});
  }
  return out;
}

}  // namespace stratus::wasi::preview1

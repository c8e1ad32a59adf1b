// Preview1: links a module's wasi_snapshot_preview1 imports to host functions.
#include "wasi/preview1/preview1.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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
  auto stdio = [](int host_fd, bool readable) {
    FdEntry e;
    e.host_fd = host_fd;
    e.readable = readable;
    e.writable = !readable;
    return e;
  };
  fds[0] = stdio(config.stdin_fd, true);
  fds[1] = stdio(config.stdout_fd, false);
  fds[2] = stdio(config.stderr_fd, false);
  for (const auto& dir : config.dirs) {
    int host = ::open(dir.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (host < 0) {
      error =
          "preopened directory '" + dir.host_path + "' (guest path '" + dir.guest_path + "'): " + std::strerror(errno);
      return;
    }
    FdEntry e;
    e.kind = FdEntry::Kind::Directory;
    e.owned = std::make_shared<p2::OwnedFd>(host);
    e.host_fd = host;
    e.readable = true;
    e.mutate_directory = !dir.read_only;
    e.preopen = dir.guest_path;
    add(std::move(e));
  }
}

FdEntry* State::fd(uint32_t fd) {
  auto it = fds.find(fd);
  return it == fds.end() ? nullptr : &it->second;
}

std::optional<uint32_t> State::add(FdEntry entry) {
  if (fds.size() >= kMaxFds) return std::nullopt;
  uint32_t n = 0;
  for (const auto& [used, e] : fds) {
    if (used != n) break;
    ++n;
  }
  fds.emplace(n, std::move(entry));
  return n;
}

uint64_t State::inode(const struct stat& st) const { return identity(st)[0]; }

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
      {"fd_pread", errno_fn({I32, I32, I32, I64, I32}), &fd_pread},
      {"fd_pwrite", errno_fn({I32, I32, I32, I64, I32}), &fd_pwrite},
      {"fd_tell", errno_fn({I32, I32}), &fd_tell},
      {"fd_advise", errno_fn({I32, I64, I64, I32}), &fd_advise},
      {"fd_allocate", errno_fn({I32, I64, I64}), &fd_allocate},
      {"fd_datasync", errno_fn({I32}), &fd_datasync},
      {"fd_sync", errno_fn({I32}), &fd_sync},
      {"fd_fdstat_set_flags", errno_fn({I32, I32}), &fd_fdstat_set_flags},
      {"fd_fdstat_set_rights", errno_fn({I32, I64, I64}), &fd_fdstat_set_rights},
      {"fd_filestat_get", errno_fn({I32, I32}), &fd_filestat_get},
      {"fd_filestat_set_size", errno_fn({I32, I64}), &fd_filestat_set_size},
      {"fd_filestat_set_times", errno_fn({I32, I64, I64, I32}), &fd_filestat_set_times},
      {"fd_renumber", errno_fn({I32, I32}), &fd_renumber},
      {"fd_readdir", errno_fn({I32, I32, I32, I64, I32}), &fd_readdir},
      {"path_create_directory", errno_fn({I32, I32, I32}), &path_create_directory},
      {"path_filestat_get", errno_fn({I32, I32, I32, I32, I32}), &path_filestat_get},
      {"path_filestat_set_times", errno_fn({I32, I32, I32, I32, I64, I64, I32}), &path_filestat_set_times},
      {"path_link", errno_fn({I32, I32, I32, I32, I32, I32, I32}), &path_link},
      {"path_open", errno_fn({I32, I32, I32, I32, I32, I64, I64, I32, I32}), &path_open},
      {"path_readlink", errno_fn({I32, I32, I32, I32, I32, I32}), &path_readlink},
      {"path_remove_directory", errno_fn({I32, I32, I32}), &path_remove_directory},
      {"path_rename", errno_fn({I32, I32, I32, I32, I32, I32}), &path_rename},
      {"path_symlink", errno_fn({I32, I32, I32, I32, I32}), &path_symlink},
      {"path_unlink_file", errno_fn({I32, I32, I32}), &path_unlink_file},
      {"sock_accept", errno_fn({I32, I32, I32}), &sock_accept},
      {"sock_recv", errno_fn({I32, I32, I32, I32, I32, I32}), &sock_recv},
      {"sock_send", errno_fn({I32, I32, I32, I32, I32}), &sock_send},
      {"sock_shutdown", errno_fn({I32, I32}), &sock_shutdown},
  };
  return calls;
}

Preview1::Preview1(Preview1Config config) : state_(std::make_shared<State>(config)) {}
Preview1::~Preview1() = default;

Result<std::vector<engine::ImportValue>> Preview1::imports_for(engine::Engine& engine, const engine::Module& module) {
  if (!state_->error.empty()) return make_error(state_->error);
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

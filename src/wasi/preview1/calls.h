// Internal to preview1/: the state the host functions share and the table of
// implemented calls. Each call is a plain function over (state, guest memory,
// args), so it can be tested and read without any engine plumbing.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "wasi/preview1/abi.h"
#include "wasi/preview1/guest_memory.h"
#include "wasi/preview1/preview1.h"

namespace stratus::wasi::preview1 {

// A guest fd backed by a borrowed host fd (stdio only, for now).
struct HostFd {
  int host_fd = -1;
  bool open = false;
  bool readable = false;
  bool writable = false;
};

struct State {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::array<HostFd, 3> fds;

  explicit State(const Preview1Config& config);
  // nullptr when `fd` is not an open guest fd.
  HostFd* fd(uint32_t fd);
};

// A call returns an errno for the guest, or a Trap that ends the guest (proc_exit).
using Outcome = std::variant<Errno, engine::Trap>;
using CallFn = Outcome (*)(State& state, GuestMemory& memory, std::span<const engine::Value> args);

struct CallSpec {
  std::string_view name;
  engine::FuncType type;
  CallFn fn;
};

// Every implemented call with its witx signature.
const std::vector<CallSpec>& implemented_calls();

// The calls, grouped by file.
Outcome args_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome args_sizes_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome environ_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome environ_sizes_get(State&, GuestMemory&, std::span<const engine::Value>);

Outcome clock_res_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome clock_time_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome poll_oneoff(State&, GuestMemory&, std::span<const engine::Value>);

Outcome fd_write(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_read(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_close(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_fdstat_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_seek(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_prestat_get(State&, GuestMemory&, std::span<const engine::Value>);
Outcome fd_prestat_dir_name(State&, GuestMemory&, std::span<const engine::Value>);

Outcome proc_exit(State&, GuestMemory&, std::span<const engine::Value>);
Outcome sched_yield(State&, GuestMemory&, std::span<const engine::Value>);
Outcome random_get(State&, GuestMemory&, std::span<const engine::Value>);

// Clock reading shared by clock_time_get and poll_oneoff.
bool read_clock(uint32_t id, uint64_t& out_ns);

}  // namespace stratus::wasi::preview1

// WASI preview 1 (`wasi_snapshot_preview1`) for core modules: args, environ,
// clocks, random, stdio, files and directories beneath preopened
// directories, proc_exit, sched_yield and polls. Sockets are never
// preopened here, so the sock_* calls answer ENOTSOCK (or EBADF). A function
// outside the witx spec that a module imports links to a stub returning
// ENOSYS, so programs still instantiate.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"

namespace stratus::wasi::preview1 {

inline constexpr std::string_view kModuleName = "wasi_snapshot_preview1";

// The same grant as WASI 0.2's: a host directory at a guest path.
using Preopen = p2::Preopen;

struct Preview1Config {
  std::vector<std::string> args;  // args[0] is the program name, as in C
  std::vector<std::string> env;   // "KEY=VALUE" entries
  // Host fds behind guest fds 0, 1 and 2. Not owned: the caller keeps them
  // open while instances use them (tests pass pipes or memfds to capture).
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
  // Preopened directories (guest fds 3, 4, ... in this order); paths never
  // leave them (the same resolution as WASI 0.2's wasi:filesystem).
  std::vector<Preopen> dirs;
};

struct State;  // per-Preview1 state shared by its host functions

class Preview1 {
 public:
  explicit Preview1(Preview1Config config);
  ~Preview1();
  Preview1(const Preview1&) = delete;
  Preview1& operator=(const Preview1&) = delete;

  // Host functions for every `wasi_snapshot_preview1` import of `module`.
  // Imports from other modules are left to the caller. Error if the module
  // declares a known function with the wrong type, or imports a non-function.
  Result<std::vector<engine::ImportValue>> imports_for(engine::Engine& engine, const engine::Module& module);

 private:
  std::shared_ptr<State> state_;
};

struct CommandOptions {
  std::string name = "module";  // for error messages (often the file name)
  engine::InstanceLimits limits;
};

// What running a command produced: its exit code, a trap, or an error that
// kept it from running (invalid module, unsatisfied import, no _start).
using CommandOutcome = std::variant<int, engine::Trap, Error>;

// Compiles `bytes`, instantiates it with preview 1 imports and calls `_start`.
// Returning from `_start` is exit code 0; proc_exit(n) is n.
CommandOutcome execute_command(engine::Engine& engine, std::span<const uint8_t> bytes, Preview1Config config,
                               const CommandOptions& options = {});

// As execute_command, with traps turned into an Error "trap: <kind>: <message>".
Result<int> run_command(engine::Engine& engine, std::span<const uint8_t> bytes, Preview1Config config,
                        const CommandOptions& options = {});

// "trap: <kind>" or "trap: <kind>: <message>".
std::string describe(const engine::Trap& trap);

}  // namespace stratus::wasi::preview1

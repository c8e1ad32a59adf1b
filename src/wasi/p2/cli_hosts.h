// wasi:cli's hosts that WASI 0.2 and 0.3 share (the same functions over the
// same WasiCtx): templates over either version's generated Host class and
// handle types.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "wasi/p2/ctx.h"
#include "wit/host_support.h"

namespace stratus::wasi::p2 {

// wasi:cli/exit's trap: the command ends with `code`.
inline engine::Trap exit_trap(int code) {
  engine::Trap trap{engine::TrapKind::Exit, "exit with code " + std::to_string(code)};
  trap.exit_code = code;
  return trap;
}

template <class Base>
class ExitHost final : public Base {
 public:
  wit::HostResult<wit::Unit> exit(const wit::WitResult<wit::Unit, wit::Unit>& status) override {
    return exit_trap(status.is_ok() ? 0 : 1);
  }
  wit::HostResult<wit::Unit> exit_with_code(const uint8_t& status_code) override { return exit_trap(status_code); }
};

// The variables and arguments; each version adds its working-directory
// function (named differently), which answers none: paths are relative to
// preopens.
template <class Base>
class EnvironmentHostBase : public Base {
 public:
  explicit EnvironmentHostBase(WasiCtx& ctx) : ctx_(ctx) {}
  wit::HostResult<std::vector<std::tuple<std::string, std::string>>> get_environment() override {
    std::vector<std::tuple<std::string, std::string>> out;
    for (const auto& [k, v] : ctx_.config.env) out.emplace_back(k, v);
    return out;
  }
  wit::HostResult<std::vector<std::string>> get_arguments() override { return ctx_.config.args; }

 private:
  WasiCtx& ctx_;
};

template <class Base>
class TerminalInputHost final : public Base {
 public:
  explicit TerminalInputHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_terminal_input(uint32_t rep) override { ctx_.terminal_inputs.remove(rep); }

 private:
  WasiCtx& ctx_;
};

template <class Base>
class TerminalOutputHost final : public Base {
 public:
  explicit TerminalOutputHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_terminal_output(uint32_t rep) override { ctx_.terminal_outputs.remove(rep); }

 private:
  WasiCtx& ctx_;
};

// A terminal handle in `table` for a standard stream that is a terminal.
template <class Handle>
std::optional<Handle> terminal(ResourceTable<Terminal>& table, bool is_terminal) {
  if (!is_terminal) return std::nullopt;
  return Handle{table.add(std::make_shared<Terminal>())};
}

template <class Base, class Input>
class TerminalStdinHost final : public Base {
 public:
  explicit TerminalStdinHost(WasiCtx& ctx) : ctx_(ctx) {}
  wit::HostResult<std::optional<Input>> get_terminal_stdin() override {
    return terminal<Input>(ctx_.terminal_inputs, ctx_.config.stdin_terminal);
  }

 private:
  WasiCtx& ctx_;
};

template <class Base, class Output>
class TerminalStdoutHost final : public Base {
 public:
  explicit TerminalStdoutHost(WasiCtx& ctx) : ctx_(ctx) {}
  wit::HostResult<std::optional<Output>> get_terminal_stdout() override {
    return terminal<Output>(ctx_.terminal_outputs, ctx_.config.stdout_terminal);
  }

 private:
  WasiCtx& ctx_;
};

template <class Base, class Output>
class TerminalStderrHost final : public Base {
 public:
  explicit TerminalStderrHost(WasiCtx& ctx) : ctx_(ctx) {}
  wit::HostResult<std::optional<Output>> get_terminal_stderr() override {
    return terminal<Output>(ctx_.terminal_outputs, ctx_.config.stderr_terminal);
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace stratus::wasi::p2

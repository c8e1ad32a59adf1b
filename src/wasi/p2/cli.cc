// wasi:cli: environment, exit, the standard streams and terminals.
#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

namespace cli = ::wasi::cli;
using wit::HostResult;
using wit::Unit;

class EnvironmentHost final : public cli::environment::Host {
 public:
  explicit EnvironmentHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<std::vector<std::tuple<std::string, std::string>>> get_environment() override {
    std::vector<std::tuple<std::string, std::string>> out;
    for (const auto& [k, v] : ctx_.config.env) out.emplace_back(k, v);
    return out;
  }
  HostResult<std::vector<std::string>> get_arguments() override { return ctx_.config.args; }
  // No working directory is granted: paths are relative to preopens.
  HostResult<std::optional<std::string>> initial_cwd() override { return std::optional<std::string>(); }

 private:
  WasiCtx& ctx_;
};

engine::Trap exit_trap(int code) {
  engine::Trap trap{engine::TrapKind::Exit, "exit with code " + std::to_string(code)};
  trap.exit_code = code;
  return trap;
}

class ExitHost final : public cli::exit::Host {
 public:
  HostResult<Unit> exit(const wit::WitResult<Unit, Unit>& status) override { return exit_trap(status.is_ok() ? 0 : 1); }
  HostResult<Unit> exit_with_code(const uint8_t& status_code) override { return exit_trap(status_code); }
};

class StdinHost final : public cli::stdin_::Host {
 public:
  explicit StdinHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<::wasi::io::streams::InputStream> get_stdin() override {
    return ::wasi::io::streams::InputStream{ctx_.input_streams.add(ctx_.config.stdin_stream)};
  }

 private:
  WasiCtx& ctx_;
};

class StdoutHost final : public cli::stdout_::Host {
 public:
  explicit StdoutHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<::wasi::io::streams::OutputStream> get_stdout() override {
    return ::wasi::io::streams::OutputStream{ctx_.output_streams.add(ctx_.config.stdout_stream)};
  }

 private:
  WasiCtx& ctx_;
};

class StderrHost final : public cli::stderr_::Host {
 public:
  explicit StderrHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<::wasi::io::streams::OutputStream> get_stderr() override {
    return ::wasi::io::streams::OutputStream{ctx_.output_streams.add(ctx_.config.stderr_stream)};
  }

 private:
  WasiCtx& ctx_;
};

class TerminalInputHost final : public cli::terminal_input::Host {
 public:
  explicit TerminalInputHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_terminal_input(uint32_t rep) override { ctx_.terminal_inputs.remove(rep); }

 private:
  WasiCtx& ctx_;
};

class TerminalOutputHost final : public cli::terminal_output::Host {
 public:
  explicit TerminalOutputHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_terminal_output(uint32_t rep) override { ctx_.terminal_outputs.remove(rep); }

 private:
  WasiCtx& ctx_;
};

class TerminalStdinHost final : public cli::terminal_stdin::Host {
 public:
  explicit TerminalStdinHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<std::optional<cli::terminal_input::TerminalInput>> get_terminal_stdin() override {
    if (!ctx_.config.stdin_terminal) return std::optional<cli::terminal_input::TerminalInput>();
    return std::optional(cli::terminal_input::TerminalInput{ctx_.terminal_inputs.add(std::make_shared<Terminal>())});
  }

 private:
  WasiCtx& ctx_;
};

std::optional<cli::terminal_output::TerminalOutput> terminal_output(WasiCtx& ctx, bool is_terminal) {
  if (!is_terminal) return std::nullopt;
  return cli::terminal_output::TerminalOutput{ctx.terminal_outputs.add(std::make_shared<Terminal>())};
}

class TerminalStdoutHost final : public cli::terminal_stdout::Host {
 public:
  explicit TerminalStdoutHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<std::optional<cli::terminal_output::TerminalOutput>> get_terminal_stdout() override {
    return terminal_output(ctx_, ctx_.config.stdout_terminal);
  }

 private:
  WasiCtx& ctx_;
};

class TerminalStderrHost final : public cli::terminal_stderr::Host {
 public:
  explicit TerminalStderrHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<std::optional<cli::terminal_output::TerminalOutput>> get_terminal_stderr() override {
    return terminal_output(ctx_, ctx_.config.stderr_terminal);
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace

Result<void> define_cli(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(cli::environment::define(linker, keep.keep(std::make_shared<EnvironmentHost>(ctx)), resources));
  STRATUS_TRY(cli::exit::define(linker, keep.keep(std::make_shared<ExitHost>()), resources));
  STRATUS_TRY(cli::stdin_::define(linker, keep.keep(std::make_shared<StdinHost>(ctx)), resources));
  STRATUS_TRY(cli::stdout_::define(linker, keep.keep(std::make_shared<StdoutHost>(ctx)), resources));
  STRATUS_TRY(cli::stderr_::define(linker, keep.keep(std::make_shared<StderrHost>(ctx)), resources));
  STRATUS_TRY(cli::terminal_input::define(linker, keep.keep(std::make_shared<TerminalInputHost>(ctx)), resources));
  STRATUS_TRY(cli::terminal_output::define(linker, keep.keep(std::make_shared<TerminalOutputHost>(ctx)), resources));
  STRATUS_TRY(cli::terminal_stdin::define(linker, keep.keep(std::make_shared<TerminalStdinHost>(ctx)), resources));
  STRATUS_TRY(cli::terminal_stdout::define(linker, keep.keep(std::make_shared<TerminalStdoutHost>(ctx)), resources));
  STRATUS_TRY(cli::terminal_stderr::define(linker, keep.keep(std::make_shared<TerminalStderrHost>(ctx)), resources));
  return {};
}

}  // namespace stratus::wasi::p2

// wasi:cli: environment, exit, the standard streams and terminals.
#include "wasi/p2/cli_hosts.h"
#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

namespace cli = ::wasi::cli;
using wit::HostResult;

class EnvironmentHost final : public EnvironmentHostBase<cli::environment::Host> {
 public:
  using EnvironmentHostBase::EnvironmentHostBase;
  HostResult<std::optional<std::string>> initial_cwd() override { return std::optional<std::string>(); }
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

}  // namespace

Result<void> define_cli(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(cli::environment::define(linker, keep.keep(std::make_shared<EnvironmentHost>(ctx)), resources));
  STRATUS_TRY(cli::exit::define(linker, keep.keep(std::make_shared<ExitHost<cli::exit::Host>>()), resources));
  STRATUS_TRY(cli::stdin_::define(linker, keep.keep(std::make_shared<StdinHost>(ctx)), resources));
  STRATUS_TRY(cli::stdout_::define(linker, keep.keep(std::make_shared<StdoutHost>(ctx)), resources));
  STRATUS_TRY(cli::stderr_::define(linker, keep.keep(std::make_shared<StderrHost>(ctx)), resources));
  STRATUS_TRY(cli::terminal_input::define(
      linker, keep.keep(std::make_shared<TerminalInputHost<cli::terminal_input::Host>>(ctx)), resources));
  STRATUS_TRY(cli::terminal_output::define(
      linker, keep.keep(std::make_shared<TerminalOutputHost<cli::terminal_output::Host>>(ctx)), resources));
  STRATUS_TRY(cli::terminal_stdin::define(
      linker,
      keep.keep(
          std::make_shared<TerminalStdinHost<cli::terminal_stdin::Host, cli::terminal_input::TerminalInput>>(ctx)),
      resources));
  STRATUS_TRY(cli::terminal_stdout::define(
      linker,
      keep.keep(
          std::make_shared<TerminalStdoutHost<cli::terminal_stdout::Host, cli::terminal_output::TerminalOutput>>(ctx)),
      resources));
  STRATUS_TRY(cli::terminal_stderr::define(
      linker,
      keep.keep(
          std::make_shared<TerminalStderrHost<cli::terminal_stderr::Host, cli::terminal_output::TerminalOutput>>(ctx)),
      resources));
  return {};
}

}  // namespace stratus::wasi::p2

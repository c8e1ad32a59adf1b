// wasi:cli 0.3: environment, exit, terminals, and the standard streams as
// streams of bytes: stdout and stderr read what the guest writes to the
// stream it hands over until it drops it, then answer its future; stdin is
// a stream the host fills, a chunk each time the guest is waiting to read.
#include "wasi/p2/cli_hosts.h"
#include "wasi/p3/byte_pumps.h"
#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {
namespace {

namespace cli = ::p3::wasi::cli;
using component::Val;
using wit::HostResult;
using wit::Unit;

using Status = wit::WitResult<Unit, cli::types::ErrorCode>;
using StatusFuture = wit::Future<Status>;

Val status_val(std::optional<cli::types::ErrorCode> error) {
  wit::HostResourcesScope none(nullptr);
  return wit::to_val(error ? Status::err(*error) : Status::ok(Unit{}));
}

// Answers the future of a stream that ended with `failure` (a failed write
// is a broken pipe, a failed read an I/O error).
PumpDone answer_status(component::HostWriteEnd future, cli::types::ErrorCode on_failure) {
  auto done = std::make_shared<component::HostWriteEnd>(std::move(future));
  return [done, on_failure](std::optional<p2::StreamFailure> failure) {
    answer_future(done, status_val(failure ? std::optional(on_failure) : std::nullopt));
  };
}

class EnvironmentHost final : public p2::EnvironmentHostBase<cli::environment::Host> {
 public:
  using EnvironmentHostBase::EnvironmentHostBase;
  HostResult<std::optional<std::string>> get_initial_cwd() override { return std::optional<std::string>(); }
};

HostResult<StatusFuture> write_via_stream(const wit::Stream<uint8_t>& data, std::shared_ptr<p2::OutputStream> out) {
  auto reader = data.reader();
  if (!reader.ok()) return p2::guest_error("write-via-stream: " + reader.error().message);
  auto [done, future] = StatusFuture::make();
  pump_to_output(std::move(*reader), std::move(out), answer_status(std::move(done), cli::types::ErrorCode::kPipe));
  return future;
}

class StdoutHost final : public cli::stdout_::Host {
 public:
  explicit StdoutHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<StatusFuture> write_via_stream(const wit::Stream<uint8_t>& data) override {
    return p3::write_via_stream(data, ctx_.config.stdout_stream);
  }

 private:
  WasiCtx& ctx_;
};

class StderrHost final : public cli::stderr_::Host {
 public:
  explicit StderrHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<StatusFuture> write_via_stream(const wit::Stream<uint8_t>& data) override {
    return p3::write_via_stream(data, ctx_.config.stderr_stream);
  }

 private:
  WasiCtx& ctx_;
};

class StdinHost final : public cli::stdin_::Host {
 public:
  explicit StdinHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<std::tuple<wit::Stream<uint8_t>, StatusFuture>> read_via_stream() override {
    auto [data, stream] = wit::Stream<uint8_t>::make();
    auto [done, future] = StatusFuture::make();
    pump_from_input(std::move(data), ctx_.config.stdin_stream,
                    answer_status(std::move(done), cli::types::ErrorCode::kIo));
    return std::make_tuple(stream, future);
  }

 private:
  WasiCtx& ctx_;
};

class TypesHost final : public cli::types::Host {};

template <class H, class MakeInstance>
Result<void> define_one(component::Linker& linker, const char* iface, std::shared_ptr<H> host, MakeInstance make,
                        wit::HostResources& resources, HostObjects& keep) {
  return define_versions(linker, iface, make(keep.keep(std::move(host)), resources));
}

}  // namespace

Result<void> define_cli(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(define_one(linker, cli::types::kInterface, std::make_shared<TypesHost>(), cli::types::make_host_instance,
                         resources, keep));
  STRATUS_TRY(define_one(linker, cli::environment::kInterface, std::make_shared<EnvironmentHost>(ctx),
                         cli::environment::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(linker, cli::exit::kInterface, std::make_shared<p2::ExitHost<cli::exit::Host>>(),
                         cli::exit::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(linker, cli::stdin_::kInterface, std::make_shared<StdinHost>(ctx),
                         cli::stdin_::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(linker, cli::stdout_::kInterface, std::make_shared<StdoutHost>(ctx),
                         cli::stdout_::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(linker, cli::stderr_::kInterface, std::make_shared<StderrHost>(ctx),
                         cli::stderr_::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(linker, cli::terminal_input::kInterface,
                         std::make_shared<p2::TerminalInputHost<cli::terminal_input::Host>>(ctx),
                         cli::terminal_input::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(linker, cli::terminal_output::kInterface,
                         std::make_shared<p2::TerminalOutputHost<cli::terminal_output::Host>>(ctx),
                         cli::terminal_output::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(
      linker, cli::terminal_stdin::kInterface,
      std::make_shared<p2::TerminalStdinHost<cli::terminal_stdin::Host, cli::terminal_input::TerminalInput>>(ctx),
      cli::terminal_stdin::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(
      linker, cli::terminal_stdout::kInterface,
      std::make_shared<p2::TerminalStdoutHost<cli::terminal_stdout::Host, cli::terminal_output::TerminalOutput>>(ctx),
      cli::terminal_stdout::make_host_instance, resources, keep));
  STRATUS_TRY(define_one(
      linker, cli::terminal_stderr::kInterface,
      std::make_shared<p2::TerminalStderrHost<cli::terminal_stderr::Host, cli::terminal_output::TerminalOutput>>(ctx),
      cli::terminal_stderr::make_host_instance, resources, keep));
  return {};
}

}  // namespace stratus::wasi::p3

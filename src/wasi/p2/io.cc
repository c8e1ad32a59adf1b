// wasi:io/poll, wasi:io/error and wasi:io/streams.
#include <algorithm>

#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

namespace poll = ::wasi::io::poll;
namespace error = ::wasi::io::error;
namespace streams = ::wasi::io::streams;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

// blocking-write-and-flush and its kin take at most this much (the WIT says
// so; a larger write is the guest's error).
constexpr uint64_t kBlockingWriteLimit = 4096;

class PollHost final : public poll::Host {
 public:
  explicit PollHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_pollable(uint32_t rep) override { ctx_.pollables.remove(rep); }
  HostResult<bool> pollable_ready(const poll::PollableBorrow& self) override {
    auto p = ctx_.pollables.get(self.rep);
    if (!p) return guest_error("unknown pollable");
    return p->ready();
  }
  HostResult<Unit> pollable_block(const poll::PollableBorrow& self) override {
    auto p = ctx_.pollables.get(self.rep);
    if (!p) return guest_error("unknown pollable");
    wait_any({p.get()});
    return Unit{};
  }
  HostResult<std::vector<uint32_t>> poll(const std::vector<poll::PollableBorrow>& in) override {
    if (in.empty()) return guest_error("poll: the list of pollables is empty");
    std::vector<std::shared_ptr<Pollable>> held;
    std::vector<const Pollable*> list;
    for (const auto& b : in) {
      auto p = ctx_.pollables.get(b.rep);
      if (!p) return guest_error("unknown pollable");
      list.push_back(p.get());
      held.push_back(std::move(p));
    }
    return wait_any(list);
  }

 private:
  WasiCtx& ctx_;
};

class ErrorHost final : public error::Host {
 public:
  explicit ErrorHost(WasiCtx& ctx) : ctx_(ctx) {}
  void drop_error(uint32_t rep) override { ctx_.errors.remove(rep); }
  HostResult<std::string> error_to_debug_string(const error::ErrorBorrow& self) override {
    auto e = ctx_.errors.get(self.rep);
    if (!e) return guest_error("unknown error");
    return e->message;
  }

 private:
  WasiCtx& ctx_;
};

using ReadResult = HostResult<WitResult<std::vector<uint8_t>, streams::StreamError>>;
using CountResult = HostResult<WitResult<uint64_t, streams::StreamError>>;
using UnitResult = HostResult<WitResult<Unit, streams::StreamError>>;

class StreamsHost final : public streams::Host {
 public:
  explicit StreamsHost(WasiCtx& ctx) : ctx_(ctx) {}

  void drop_input_stream(uint32_t rep) override { ctx_.input_streams.remove(rep); }
  void drop_output_stream(uint32_t rep) override {
    ctx_.output_streams.remove(rep);
    ctx_.write_budget.erase(rep);
  }

  ReadResult input_stream_read(const streams::InputStreamBorrow& self, const uint64_t& len) override {
    return read(self, len, false);
  }
  ReadResult input_stream_blocking_read(const streams::InputStreamBorrow& self, const uint64_t& len) override {
    return read(self, len, true);
  }
  CountResult input_stream_skip(const streams::InputStreamBorrow& self, const uint64_t& len) override {
    return skip(self, len, false);
  }
  CountResult input_stream_blocking_skip(const streams::InputStreamBorrow& self, const uint64_t& len) override {
    return skip(self, len, true);
  }
  HostResult<poll::Pollable> input_stream_subscribe(const streams::InputStreamBorrow& self) override {
    auto s = ctx_.input_streams.get(self.rep);
    if (!s) return guest_error("unknown input-stream");
    return poll::Pollable{ctx_.pollables.add(std::make_shared<Pollable>(s->subscribe()))};
  }

  CountResult output_stream_check_write(const streams::OutputStreamBorrow& self) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    auto n = s->check_write();
    if (auto* f = std::get_if<StreamFailure>(&n))
      return WitResult<uint64_t, streams::StreamError>::err(stream_error(ctx_, *f));
    ctx_.write_budget[self.rep] = std::get<uint64_t>(n);
    return WitResult<uint64_t, streams::StreamError>::ok(std::get<uint64_t>(n));
  }
  UnitResult output_stream_write(const streams::OutputStreamBorrow& self,
                                 const std::vector<uint8_t>& contents) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    // The guest must ask check-write first and stay within what it allowed.
    auto& permitted = ctx_.write_budget[self.rep];
    if (contents.size() > permitted)
      return guest_error("output-stream.write of " + std::to_string(contents.size()) +
                         " bytes exceeds what check-write permitted (" + std::to_string(permitted) + ")");
    permitted -= contents.size();
    return done(s->write(contents));
  }
  UnitResult output_stream_blocking_write_and_flush(const streams::OutputStreamBorrow& self,
                                                    const std::vector<uint8_t>& contents) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    if (contents.size() > kBlockingWriteLimit)
      return guest_error("blocking-write-and-flush takes at most 4096 bytes, got " + std::to_string(contents.size()));
    if (auto f = s->write(contents)) return done(f);
    return done(s->flush());
  }
  UnitResult output_stream_flush(const streams::OutputStreamBorrow& self) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    return done(s->flush());
  }
  UnitResult output_stream_blocking_flush(const streams::OutputStreamBorrow& self) override {
    return output_stream_flush(self);
  }
  HostResult<poll::Pollable> output_stream_subscribe(const streams::OutputStreamBorrow& self) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    return poll::Pollable{ctx_.pollables.add(std::make_shared<Pollable>(s->subscribe()))};
  }
  UnitResult output_stream_write_zeroes(const streams::OutputStreamBorrow& self, const uint64_t& len) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    auto& permitted = ctx_.write_budget[self.rep];
    if (len > permitted) return guest_error("output-stream.write-zeroes exceeds what check-write permitted");
    permitted -= len;
    std::vector<uint8_t> zeroes(static_cast<size_t>(len));
    return done(s->write(zeroes));
  }
  UnitResult output_stream_blocking_write_zeroes_and_flush(const streams::OutputStreamBorrow& self,
                                                           const uint64_t& len) override {
    auto s = ctx_.output_streams.get(self.rep);
    if (!s) return guest_error("unknown output-stream");
    if (len > kBlockingWriteLimit) return guest_error("blocking-write-zeroes-and-flush takes at most 4096 bytes");
    std::vector<uint8_t> zeroes(static_cast<size_t>(len));
    if (auto f = s->write(zeroes)) return done(f);
    return done(s->flush());
  }
  CountResult output_stream_splice(const streams::OutputStreamBorrow& self, const streams::InputStreamBorrow& src,
                                   const uint64_t& len) override {
    return splice(self, src, len, false);
  }
  CountResult output_stream_blocking_splice(const streams::OutputStreamBorrow& self,
                                            const streams::InputStreamBorrow& src, const uint64_t& len) override {
    return splice(self, src, len, true);
  }

 private:
  ReadResult read(const streams::InputStreamBorrow& self, uint64_t len, bool blocking) {
    auto s = ctx_.input_streams.get(self.rep);
    if (!s) return guest_error("unknown input-stream");
    auto r = s->read(len, blocking);
    using R = WitResult<std::vector<uint8_t>, streams::StreamError>;
    if (auto* f = std::get_if<StreamFailure>(&r)) return R::err(stream_error(ctx_, *f));
    return R::ok(std::move(std::get<std::vector<uint8_t>>(r)));
  }

  CountResult skip(const streams::InputStreamBorrow& self, uint64_t len, bool blocking) {
    auto s = ctx_.input_streams.get(self.rep);
    if (!s) return guest_error("unknown input-stream");
    auto r = s->read(len, blocking);
    using R = WitResult<uint64_t, streams::StreamError>;
    if (auto* f = std::get_if<StreamFailure>(&r)) return R::err(stream_error(ctx_, *f));
    return R::ok(std::get<std::vector<uint8_t>>(r).size());
  }

  CountResult splice(const streams::OutputStreamBorrow& self, const streams::InputStreamBorrow& src, uint64_t len,
                     bool blocking) {
    auto out = ctx_.output_streams.get(self.rep);
    auto in = ctx_.input_streams.get(src.rep);
    if (!out || !in) return guest_error("unknown stream");
    using R = WitResult<uint64_t, streams::StreamError>;
    auto room = out->check_write();
    if (auto* f = std::get_if<StreamFailure>(&room)) return R::err(stream_error(ctx_, *f));
    uint64_t n = std::min(len, std::get<uint64_t>(room));
    if (!blocking) n = std::min(n, ctx_.write_budget[self.rep]);
    auto r = in->read(n, blocking);
    if (auto* f = std::get_if<StreamFailure>(&r)) return R::err(stream_error(ctx_, *f));
    const auto& bytes = std::get<std::vector<uint8_t>>(r);
    if (auto f = out->write(bytes)) return R::err(stream_error(ctx_, *f));
    if (!blocking) ctx_.write_budget[self.rep] -= bytes.size();
    return R::ok(bytes.size());
  }

  UnitResult done(const std::optional<StreamFailure>& failure) {
    using R = WitResult<Unit, streams::StreamError>;
    if (failure) return R::err(stream_error(ctx_, *failure));
    return R::ok(Unit{});
  }

  WasiCtx& ctx_;
};

}  // namespace

engine::Trap guest_error(const std::string& message) { return engine::Trap{engine::TrapKind::HostError, message}; }

streams::StreamError stream_error(WasiCtx& ctx, const StreamFailure& failure) {
  if (failure.closed) return streams::StreamErrorClosed{};
  uint32_t rep = ctx.errors.add(std::make_shared<IoError>(IoError{failure.message, failure.error_code}));
  return streams::StreamErrorLastOperationFailed{error::Error{rep}};
}

Result<void> define_io(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(error::define(linker, keep.keep(std::make_shared<ErrorHost>(ctx)), resources));
  STRATUS_TRY(poll::define(linker, keep.keep(std::make_shared<PollHost>(ctx)), resources));
  STRATUS_TRY(streams::define(linker, keep.keep(std::make_shared<StreamsHost>(ctx)), resources));
  return {};
}

}  // namespace stratus::wasi::p2

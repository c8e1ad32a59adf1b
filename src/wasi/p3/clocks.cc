// wasi:clocks 0.3: monotonic-clock (its waits are async: a timer of the
// store's reactor, cancellable), system-clock and types.
#include <ctime>

#include "wasi/p2/streams.h"
#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {
namespace {

namespace clocks = ::p3::wasi::clocks;
using wit::HostResult;
using wit::Reply;
using wit::Unit;

uint64_t resolution_ns(clockid_t clock) {
  timespec ts{};
  if (::clock_getres(clock, &ts) != 0) return 1;
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

class MonotonicHost final : public clocks::monotonic_clock::Host {
 public:
  HostResult<uint64_t> now() override { return p2::monotonic_now_ns(); }
  HostResult<uint64_t> get_resolution() override { return resolution_ns(CLOCK_MONOTONIC); }
  void wait_until(const uint64_t& when, Reply<Unit> reply) override { wait(when, std::move(reply)); }
  void wait_for(const uint64_t& how_long, Reply<Unit> reply) override {
    uint64_t now = p2::monotonic_now_ns();
    wait(how_long > UINT64_MAX - now ? UINT64_MAX : now + how_long, std::move(reply));
  }

 private:
  // The reactor's clock is steady_clock, which is CLOCK_MONOTONIC here, as
  // monotonic_now_ns is.
  static void wait(uint64_t deadline_ns, Reply<Unit> reply) {
    auto& reactor = reply.reactor();
    uint64_t now = p2::monotonic_now_ns();
    if (deadline_ns <= now) {
      reply(Unit{});  // a deadline that has passed is ready at once: the call returns, it does not wait
      return;
    }
    auto left = std::chrono::nanoseconds(std::min<uint64_t>(deadline_ns - now, INT64_MAX / 2));
    uint64_t timer = reactor.at(component::Reactor::Clock::now() + left, [reply] { reply(Unit{}); });
    component::Reactor* r = &reactor;
    reply.on_cancel([r, timer, reply] {
      if (r->cancel_timer(timer)) reply.cancelled();
    });
  }
};

class SystemClockHost final : public clocks::system_clock::Host {
 public:
  HostResult<clocks::system_clock::Instant> now() override {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return clocks::system_clock::Instant{static_cast<int64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
  }
  HostResult<uint64_t> get_resolution() override { return resolution_ns(CLOCK_REALTIME); }
};

class TypesHost final : public clocks::types::Host {};

}  // namespace

Result<void> define_clocks(component::Linker& linker, WasiCtx&, wit::HostResources& resources, HostObjects& keep) {
  auto& t = keep.keep(std::make_shared<TypesHost>());
  STRATUS_TRY(define_versions(linker, clocks::types::kInterface, clocks::types::make_host_instance(t, resources)));
  auto& m = keep.keep(std::make_shared<MonotonicHost>());
  STRATUS_TRY(define_versions(linker, clocks::monotonic_clock::kInterface,
                              clocks::monotonic_clock::make_host_instance(m, resources)));
  auto& s = keep.keep(std::make_shared<SystemClockHost>());
  STRATUS_TRY(define_versions(linker, clocks::system_clock::kInterface,
                              clocks::system_clock::make_host_instance(s, resources)));
  return {};
}

}  // namespace stratus::wasi::p3

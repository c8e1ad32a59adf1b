// wasi:clocks/monotonic-clock and wasi:clocks/wall-clock.
#include <ctime>

#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

namespace mono = ::wasi::clocks::monotonic_clock;
namespace wall = ::wasi::clocks::wall_clock;
using wit::HostResult;

uint64_t resolution_ns(clockid_t clock) {
  timespec ts{};
  if (::clock_getres(clock, &ts) != 0) return 1;
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

class MonotonicHost final : public mono::Host {
 public:
  explicit MonotonicHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<mono::Instant> now() override { return monotonic_now_ns(); }
  HostResult<mono::Duration> resolution() override { return resolution_ns(CLOCK_MONOTONIC); }
  HostResult<::wasi::io::poll::Pollable> subscribe_instant(const mono::Instant& when) override {
    return pollable_at(when);
  }
  HostResult<::wasi::io::poll::Pollable> subscribe_duration(const mono::Duration& when) override {
    uint64_t now = monotonic_now_ns();
    return pollable_at(when > UINT64_MAX - now ? UINT64_MAX : now + when);
  }

 private:
  ::wasi::io::poll::Pollable pollable_at(uint64_t deadline) {
    return ::wasi::io::poll::Pollable{
        ctx_.pollables.add(std::make_shared<Pollable>(Pollable{Pollable::Kind::Deadline, deadline, nullptr, -1}))};
  }
  WasiCtx& ctx_;
};

class WallClockHost final : public wall::Host {
 public:
  HostResult<wall::Datetime> now() override {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    // Before 1970 cannot be expressed (seconds are unsigned); clamp.
    if (ts.tv_sec < 0) return wall::Datetime{0, 0};
    return wall::Datetime{static_cast<uint64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
  }
  HostResult<wall::Datetime> resolution() override {
    uint64_t ns = resolution_ns(CLOCK_REALTIME);
    return wall::Datetime{ns / 1'000'000'000u, static_cast<uint32_t>(ns % 1'000'000'000u)};
  }
};

}  // namespace

Result<void> define_clocks(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(mono::define(linker, keep.keep(std::make_shared<MonotonicHost>(ctx)), resources));
  STRATUS_TRY(wall::define(linker, keep.keep(std::make_shared<WallClockHost>()), resources));
  return {};
}

}  // namespace stratus::wasi::p2

// clock_res_get and clock_time_get over the host's POSIX clocks.
#include <time.h>

#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

bool host_clock(uint32_t id, clockid_t& out) {
  switch (id) {
    case clockid::kRealtime: out = CLOCK_REALTIME; return true;
    case clockid::kMonotonic: out = CLOCK_MONOTONIC; return true;
    case clockid::kProcessCputime: out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case clockid::kThreadCputime: out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
  }
}

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

bool read_clock(uint32_t id, uint64_t& out_ns) {
  clockid_t host;
  timespec ts{};
  if (!host_clock(id, host) || clock_gettime(host, &ts) != 0) return false;
  out_ns = to_ns(ts);
  return true;
}

Outcome clock_res_get(State&, GuestMemory& mem, std::span<const engine::Value> a) {
  clockid_t host;
  timespec ts{};
  if (!host_clock(a[0].i32(), host)) return Errno::Inval;
  if (clock_getres(host, &ts) != 0) return errno_from_host(errno);
  if (!mem.store<uint64_t>(a[1].i32(), to_ns(ts))) return Errno::Fault;
  return Errno::Success;
}

// The precision argument (a[1]) is a hint the host is free to ignore.
Outcome clock_time_get(State&, GuestMemory& mem, std::span<const engine::Value> a) {
  uint64_t now = 0;
  if (!read_clock(a[0].i32(), now)) return Errno::Inval;
  if (!mem.store<uint64_t>(a[2].i32(), now)) return Errno::Fault;
  return Errno::Success;
}

}  // namespace stratus::wasi::preview1

// poll_oneoff: waits for clock deadlines (sleep) and stdio readiness.
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "wasi/preview1/calls.h"

namespace stratus::wasi::preview1 {
namespace {

// A guest can ask for up to memory/48 subscriptions; cap what the host allocates for.
constexpr uint32_t kMaxSubscriptions = 1u << 16;
constexpr uint16_t kEventHangup = 1;

struct Subscription {
  uint64_t userdata = 0;
  uint8_t type = 0;
  Errno immediate_error = Errno::Success;  // set: the event fires at once with this error
  uint64_t deadline_ns = 0;                // clocks: CLOCK_MONOTONIC deadline
  int poll_index = -1;                     // fds: index into the pollfd array
};

struct Event {
  uint64_t userdata;
  Errno error;
  uint8_t type;
  uint64_t nbytes;
  uint16_t flags;
};

uint64_t monotonic_now() {
  uint64_t now = 0;
  read_clock(clockid::kMonotonic, now);
  return now;
}

uint64_t saturating_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

std::optional<Errno> read_subscription(State& st, GuestMemory& mem, uint64_t base, Subscription& sub,
                                       std::vector<pollfd>& pfds) {
  auto userdata = mem.load<uint64_t>(base + layout::kSubUserdata);
  auto tag = mem.load<uint8_t>(base + layout::kSubTag);
  if (!userdata || !tag) return Errno::Fault;
  sub.userdata = *userdata;
  sub.type = *tag;
  if (*tag == eventtype::kClock) {
    auto id = mem.load<uint32_t>(base + layout::kSubClockId);
    auto timeout = mem.load<uint64_t>(base + layout::kSubClockTimeout);
    auto flags = mem.load<uint16_t>(base + layout::kSubClockFlags);
    if (!id || !timeout || !flags) return Errno::Fault;
    uint64_t now = 0;
    if (!read_clock(*id, now)) {
      sub.immediate_error = Errno::Inval;
      return std::nullopt;
    }
    // Everything is waited for on the monotonic clock; an absolute time on
    // another clock becomes a relative wait from now.
    uint64_t remaining = *timeout;
    if (*flags & kSubclockAbstime) remaining = *timeout > now ? *timeout - now : 0;
    sub.deadline_ns = saturating_add(monotonic_now(), remaining);
    return std::nullopt;
  }
  if (*tag == eventtype::kFdRead || *tag == eventtype::kFdWrite) {
    auto fd = mem.load<uint32_t>(base + layout::kSubFd);
    if (!fd) return Errno::Fault;
    FdEntry* h = st.fd(*fd);
    bool reading = *tag == eventtype::kFdRead;
    if (h == nullptr || h->kind == FdEntry::Kind::Directory || (reading ? !h->readable : !h->writable)) {
      sub.immediate_error = Errno::Badf;
      return std::nullopt;
    }
    sub.poll_index = static_cast<int>(pfds.size());
    pfds.push_back(pollfd{h->host_fd, static_cast<short>(reading ? POLLIN : POLLOUT), 0});
    return std::nullopt;
  }
  return Errno::Inval;
}

// Blocks until the earliest clock deadline or fd readiness (or a signal).
void wait(std::vector<pollfd>& pfds, std::optional<uint64_t> deadline_ns) {
  if (pfds.empty()) {
    if (!deadline_ns) return;
    timespec ts{static_cast<time_t>(*deadline_ns / 1'000'000'000ull),
                static_cast<long>(*deadline_ns % 1'000'000'000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    return;
  }
  timespec rel{};
  timespec* timeout = nullptr;
  if (deadline_ns) {
    uint64_t now = monotonic_now();
    uint64_t left = *deadline_ns > now ? *deadline_ns - now : 0;
    rel = {static_cast<time_t>(left / 1'000'000'000ull), static_cast<long>(left % 1'000'000'000ull)};
    timeout = &rel;
  }
  ppoll(pfds.data(), pfds.size(), timeout, nullptr);
}

std::vector<Event> collect(const std::vector<Subscription>& subs, const std::vector<pollfd>& pfds) {
  std::vector<Event> events;
  uint64_t now = monotonic_now();
  for (const auto& s : subs) {
    if (s.immediate_error != Errno::Success) {
      events.push_back({s.userdata, s.immediate_error, s.type, 0, 0});
    } else if (s.type == eventtype::kClock) {
      if (s.deadline_ns <= now) events.push_back({s.userdata, Errno::Success, s.type, 0, 0});
    } else {
      const pollfd& p = pfds[static_cast<size_t>(s.poll_index)];
      if (p.revents == 0) continue;
      uint64_t nbytes = 0;
      int available = 0;
      if (s.type == eventtype::kFdRead && ioctl(p.fd, FIONREAD, &available) == 0 && available > 0)
        nbytes = static_cast<uint64_t>(available);
      uint16_t flags = (p.revents & POLLHUP) ? kEventHangup : 0;
      Errno err = (p.revents & (POLLERR | POLLNVAL)) ? Errno::Io : Errno::Success;
      events.push_back({s.userdata, err, s.type, nbytes, flags});
    }
  }
  return events;
}

}  // namespace

Outcome poll_oneoff(State& st, GuestMemory& mem, std::span<const engine::Value> a) {
  uint64_t in = a[0].i32(), out = a[1].i32();
  uint32_t n = a[2].i32();
  uint32_t nevents_ptr = a[3].i32();
  if (n == 0 || n > kMaxSubscriptions) return Errno::Inval;
  if (!mem.bytes(in, uint64_t{n} * layout::kSubscriptionSize) || !mem.bytes(out, uint64_t{n} * layout::kEventSize))
    return Errno::Fault;

  std::vector<Subscription> subs(n);
  std::vector<pollfd> pfds;
  for (uint32_t i = 0; i < n; ++i) {
    if (auto err = read_subscription(st, mem, in + uint64_t{i} * layout::kSubscriptionSize, subs[i], pfds)) return *err;
  }

  bool immediate =
      std::any_of(subs.begin(), subs.end(), [](const Subscription& s) { return s.immediate_error != Errno::Success; });
  std::optional<uint64_t> earliest;
  for (const auto& s : subs) {
    if (s.type == eventtype::kClock && s.immediate_error == Errno::Success)
      earliest = std::min(earliest.value_or(UINT64_MAX), s.deadline_ns);
  }
  if (!immediate && !earliest && pfds.empty()) return Errno::Inval;

  std::vector<Event> events;
  for (;;) {
    for (auto& p : pfds) p.revents = 0;
    // With an event already due, only check readiness without blocking.
    if (immediate) {
      timespec zero{};
      if (!pfds.empty()) ppoll(pfds.data(), pfds.size(), &zero, nullptr);
    } else {
      wait(pfds, earliest);
    }
    events = collect(subs, pfds);
    if (!events.empty()) break;  // else a signal woke us early: wait again
  }

  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    uint64_t base = out + i * layout::kEventSize;
    // The whole output range was checked above, so these stores cannot fail.
    mem.store<uint64_t>(base + layout::kEventUserdata, e.userdata);
    mem.store<uint16_t>(base + layout::kEventError, static_cast<uint16_t>(e.error));
    mem.store<uint8_t>(base + layout::kEventType, e.type);
    mem.store<uint64_t>(base + layout::kEventNbytes, e.nbytes);
    mem.store<uint16_t>(base + layout::kEventFlags, e.flags);
  }
  if (!mem.store<uint32_t>(nevents_ptr, static_cast<uint32_t>(events.size()))) return Errno::Fault;
  return Errno::Success;
}

}  // namespace stratus::wasi::preview1

// The host's half of a store's event loop: work that async host functions
// and host stream ends hand to the store's thread. Other threads post
// closures; the store's thread sets timers and watches file descriptors.
// The loop (run_event_loop, or a synchronous task blocked on its caller's
// stack) runs what is due between guest threads and, when no guest thread
// is ready, waits here instead of calling it a deadlock while anything may
// still come: a posted closure, a timer, a watched descriptor or a Hold.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace stratus::component {

class Reactor {
 public:
  using Clock = std::chrono::steady_clock;

  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // What other threads keep to reach the loop: posting through it is
  // thread-safe and harmless after the store is gone (nothing runs).
  class Poster {
   public:
    void post(std::function<void()> f) const;

   private:
    friend class Reactor;
    struct Shared;
    std::shared_ptr<Shared> shared_;
  };
  // While one is alive the loop waits for posts rather than report a
  // deadlock: held by whoever will post later (an async host call under
  // way on another thread, for example).
  class Hold {
   public:
    Hold() = default;
    ~Hold();
    Hold(Hold&& o) noexcept : shared_(std::move(o.shared_)) {}
    Hold& operator=(Hold&& o) noexcept;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    void release();

   private:
    friend class Reactor;
    std::shared_ptr<Poster::Shared> shared_;
  };

  Poster poster() const;
  Hold hold();
  // Thread-safe: runs `f` on the store's thread at its loop's next turn.
  void post(std::function<void()> f) { poster().post(std::move(f)); }

  // The store's thread only. A timer runs `f` once, at or after `when`.
  uint64_t at(Clock::time_point when, std::function<void()> f);
  bool cancel_timer(uint64_t id);
  // Runs `f(revents)` once when `fd` has one of `events` (poll(2) bits).
  uint64_t watch(int fd, short events, std::function<void(short)> f);
  bool unwatch(uint64_t id);

  // Whether anything may still come: a post, a timer, a watch or a hold.
  bool busy() const;
  // Runs what is due: posted closures, expired timers, ready descriptors.
  // With `wait`, when nothing was due, first waits for something (up to
  // `until`, if given). Returns whether it ran anything.
  bool run(bool wait, std::optional<Clock::time_point> until = std::nullopt);

 private:
  bool run_posted();
  bool run_timers();
  bool poll_watches(int timeout_ms);

  std::shared_ptr<Poster::Shared> shared_;
  uint64_t next_id_ = 1;
  struct Timer {
    uint64_t id;
    std::function<void()> f;
  };
  std::multimap<Clock::time_point, Timer> timers_;
  struct Watch {
    uint64_t id;
    int fd;
    short events;
    std::function<void(short)> f;
  };
  std::vector<Watch> watches_;
};

}  // namespace stratus::component

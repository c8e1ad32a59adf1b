#include "engine/aot/watchdog.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace stratus::engine::aot {

using Clock = std::chrono::steady_clock;

struct Watchdog::State {
  struct Entry {
    Clock::time_point deadline;
    volatile uint32_t* thread_flag;
    bool fired = false;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, Entry> armed;
  uint64_t next_id = 1;
  // When the thread will next look at the deadlines (max: only when told).
  // A call's deadline is seconds away and the call usually returns long
  // before it, so arming wakes the thread only for a deadline earlier than
  // that: not twice per call, which cost two context switches per request.
  Clock::time_point wakes_at = Clock::time_point::max();
  bool stop = false;
  std::thread thread;

  void loop() {
    std::unique_lock lock(mu);
    while (!stop) {
      auto now = Clock::now();
      auto next = Clock::time_point::max();
      for (auto& [id, e] : armed) {
        if (e.fired) continue;
        if (e.deadline <= now) {
          e.fired = true;
          __atomic_store_n(e.thread_flag, 1u, __ATOMIC_SEQ_CST);
        } else if (e.deadline < next) {
          next = e.deadline;
        }
      }
      wakes_at = next;
      if (next == Clock::time_point::max())
        cv.wait(lock);
      else
        cv.wait_until(lock, next);
      wakes_at = Clock::time_point::min();  // awake: arm() need not notify
    }
  }
};

Watchdog& Watchdog::get() {
  static Watchdog w;
  return w;
}

Watchdog::Watchdog() : state_(std::make_unique<State>()) {}

Watchdog::~Watchdog() {
  State& s = state();
  {
    std::lock_guard lock(s.mu);
    s.stop = true;
  }
  s.cv.notify_all();
  if (s.thread.joinable()) s.thread.join();
}

uint64_t Watchdog::arm(Clock::time_point deadline, volatile uint32_t* thread_flag) {
  State& s = state();
  std::lock_guard lock(s.mu);
  if (!s.thread.joinable()) s.thread = std::thread([&s] { s.loop(); });
  uint64_t id = s.next_id++;
  s.armed[id] = State::Entry{deadline, thread_flag};
  if (deadline < s.wakes_at) s.cv.notify_all();
  return id;
}

bool Watchdog::disarm(uint64_t id) {
  State& s = state();
  std::lock_guard lock(s.mu);
  auto it = s.armed.find(id);
  if (it == s.armed.end()) return false;
  bool fired = it->second.fired;
  s.armed.erase(it);
  return fired;
}

}  // namespace stratus::engine::aot

#include "engine/aot/watchdog.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace stratus::engine::aot {

using Clock = std::chrono::steady_clock;

namespace {

int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

}  // namespace

// Every thread that arms a deadline has a slot of its own, with its own
// lock: arming and disarming (twice per call into wasm, from every serving
// thread) never contend, which a lock shared by all of them did (a third of
// a request's futex calls). The watchdog thread takes the registry's lock,
// then each slot's, only when it wakes.
struct Watchdog::State {
  struct Entry {
    Clock::time_point deadline;
    bool fired = false;
  };
  struct Slot {
    std::mutex mu;
    std::vector<Entry> entries;  // nested calls on this thread, innermost last
    volatile uint32_t* thread_flag = nullptr;
  };

  std::mutex mu;  // guards slots, stop, and the thread's sleep
  std::condition_variable cv;
  std::list<Slot> slots;  // stable addresses; a thread's slot lives as long as the thread
  // When the thread will next look at the deadlines: max when nothing is
  // armed, min while it is awake. A call's deadline is seconds away and the
  // call usually returns long before it, so arming wakes the thread only for
  // a deadline earlier than that.
  std::atomic<int64_t> wakes_at{ticks(Clock::time_point::max())};
  bool stop = false;
  std::thread thread;

  void loop() {
    std::unique_lock lock(mu);
    while (!stop) {
      auto now = Clock::now();
      auto next = Clock::time_point::max();
      for (auto& slot : slots) {
        std::lock_guard slot_lock(slot.mu);
        for (auto& e : slot.entries) {
          if (e.fired) continue;
          if (e.deadline <= now) {
            e.fired = true;
            __atomic_store_n(slot.thread_flag, 1u, __ATOMIC_SEQ_CST);
          } else if (e.deadline < next) {
            next = e.deadline;
          }
        }
      }
      wakes_at.store(ticks(next));
      if (next == Clock::time_point::max())
        cv.wait(lock);
      else
        cv.wait_until(lock, next);
      wakes_at.store(ticks(Clock::time_point::min()));  // awake: an arm must make it look again
    }
  }

  struct Registration {
    State* state = nullptr;
    std::list<Slot>::iterator it;
    ~Registration() {
      if (state == nullptr) return;
      std::lock_guard lock(state->mu);
      state->slots.erase(it);
    }
  };
  static Registration& registration() {
    static thread_local Registration r;
    return r;
  }
  // This thread's slot if it has one (nothing is registered or started).
  Slot* existing_slot() {
    Registration& r = registration();
    return r.state == nullptr ? nullptr : &*r.it;
  }
  // This thread's slot, registered on first use and removed when the thread ends.
  Slot& slot(volatile uint32_t* thread_flag) {
    Registration& registration = State::registration();
    if (registration.state == nullptr) {
      std::lock_guard lock(mu);
      if (!thread.joinable()) thread = std::thread([this] { loop(); });
      registration.it = slots.emplace(slots.end());
      registration.it->thread_flag = thread_flag;
      registration.state = this;
    }
    // A thread whose first use took deadlines off (a fiber switch) registered
    // without its flag; every flag of a thread is the same one.
    if (thread_flag != nullptr && registration.it->thread_flag == nullptr) {
      std::lock_guard lock(registration.it->mu);
      registration.it->thread_flag = thread_flag;
    }
    return *registration.it;
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
  State::Slot& slot = s.slot(thread_flag);
  uint64_t depth = 0;
  {
    std::lock_guard lock(slot.mu);
    slot.entries.push_back(State::Entry{deadline});
    depth = slot.entries.size();
  }
  // Read after the entry is in: a watchdog sleeping past this deadline, or
  // awake and perhaps done with this slot, is told to look again.
  if (ticks(deadline) < s.wakes_at.load()) {
    std::lock_guard lock(s.mu);
    s.cv.notify_all();
  }
  return depth;
}

bool Watchdog::disarm(uint64_t id) {
  State& s = state();
  State::Slot& slot = s.slot(nullptr);
  std::lock_guard lock(slot.mu);
  // Calls nest on a thread, so the entry to go is the innermost one.
  if (id == 0 || slot.entries.size() != id) return false;
  bool fired = slot.entries.back().fired;
  slot.entries.pop_back();
  return fired;
}

std::vector<std::chrono::nanoseconds> Watchdog::take_all(bool* fired) {
  State& s = state();
  std::vector<std::chrono::nanoseconds> left;
  *fired = false;
  // A thread that never armed a deadline has none to take (and starts no
  // watchdog thread for it).
  State::Slot* existing = s.existing_slot();
  if (existing == nullptr) return left;
  State::Slot& slot = *existing;
  std::lock_guard lock(slot.mu);
  if (slot.entries.empty()) return left;
  auto now = Clock::now();
  left.reserve(slot.entries.size());
  for (const auto& e : slot.entries) {
    *fired = *fired || e.fired;
    left.push_back(std::max(std::chrono::nanoseconds(0), std::chrono::nanoseconds(e.deadline - now)));
  }
  slot.entries.clear();
  return left;
}

void Watchdog::put_back(const std::vector<std::chrono::nanoseconds>& left, volatile uint32_t* thread_flag) {
  if (left.empty()) return;
  auto now = Clock::now();
  for (auto d : left) arm(now + d, thread_flag);
}

}  // namespace stratus::engine::aot

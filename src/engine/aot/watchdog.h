// Deadlines for calls into wasm. One watchdog thread per process sleeps until
// the earliest armed deadline; when it passes, it raises the calling thread's
// interrupt flag, so the next injected check (loop header or function entry)
// in whatever instance that thread is running traps with Deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace stratus::engine::aot {

class Watchdog {
 public:
  static Watchdog& get();

  // Arms a deadline for the current call on this thread; returns its id.
  // `thread_flag` is this thread's interrupt flag (the same on every call).
  uint64_t arm(std::chrono::steady_clock::time_point deadline, volatile uint32_t* thread_flag);
  // Disarms the thread's innermost armed deadline, `id`; true if it had
  // fired (the caller then clears its thread flag).
  bool disarm(uint64_t id);
  // Takes every deadline armed on this thread off it (a fiber leaving the
  // thread takes its calls' deadlines along), as the time each had left,
  // innermost last; `fired` tells whether any had already fired.
  std::vector<std::chrono::nanoseconds> take_all(bool* fired);
  // Arms them again on this thread, from now (a fiber arriving).
  void put_back(const std::vector<std::chrono::nanoseconds>& left, volatile uint32_t* thread_flag);
  ~Watchdog();

 private:
  Watchdog();
  struct State;
  State& state() const { return *state_; }
  std::unique_ptr<State> state_;
};

}  // namespace stratus::engine::aot

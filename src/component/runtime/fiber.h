// A stack of its own for code that may park before it finishes: the
// implicit thread of an async-lifted call, a thread of `thread.new-indirect`
// (CanonicalABI.md's `cont.new`, `resume` and `block`). On Boost.Context;
// stacks come from a per-thread pool and have a guard page, so a parked
// fiber costs the pages its stack touched, not an OS thread.
//
// A fiber runs on the OS thread that resumes it, nested inside that
// resume() until it parks or finishes; the engines' per-stack execution
// state (trap frames, call depth, deadlines) is switched with it
// (engine/stack_state.h), and the interpreter's store locks the stack holds
// are let go while it is parked (engine::HeldLocks); so is the trace
// context it works under (support/trace_slot.h: a new fiber starts with its
// first resumer's). A store's fibers are resumed by one thread at a
// time, and never by another thread while one of their calls is under way
// on a native frame of the first (TLS addresses are per thread).
#pragma once

#include <functional>
#include <memory>

namespace stratus::component {

class Fiber {
 public:
  explicit Fiber(std::function<void()> body);
  // A fiber is destroyed finished or never started: parked ones are resumed
  // until they finish first (their frames are wasm's, and only a trap may
  // unwind those).
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber on this thread until it parks or finishes.
  void resume();
  // Parks the fiber that is running: its resume() returns.
  static void park();
  // The fiber running on this thread; null on the thread's own stack.
  static Fiber* current();

  bool started() const;
  bool finished() const;

 public:
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::component

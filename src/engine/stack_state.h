// The backends' execution state that belongs to one native stack of the
// current OS thread: the aot runtime's trap frames, call depth and limit,
// innermost `try`, stack bounds, interrupt flag, entry instance and armed
// deadlines; the interpreter's host-call nesting. A fiber switch
// (component/runtime/fiber.h) saves the state of the stack it leaves and
// restores the state of the one it enters, so a trap unwinds only the
// fiber it happened on and a parked fiber's deadline does not run out while
// it is parked.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace stratus::engine {

class StackState {
 public:
  // The state of a stack nothing runs on yet, with bounds [lo, hi).
  static StackState fresh(uintptr_t lo, uintptr_t hi);

  // Moves the current thread's state into this object (the thread is left
  // with a fresh state), and back.
  void save();
  void restore();

  // Opaque to everything but the backends (engine/aot/stack_state.cc,
  // engine/interp/run.cc).
  struct Aot {
    std::array<uint64_t, 12> words{};
  };
  Aot aot;
  std::vector<std::chrono::nanoseconds> deadlines;  // armed call timeouts, innermost last, as time left
  bool deadline_fired = false;
  int interp_nesting = 0;
};

namespace aot {
void save_stack_state(StackState& s);
void restore_stack_state(const StackState& s);
void fresh_stack_state(StackState& s, uintptr_t lo, uintptr_t hi);
}  // namespace aot
namespace interp {
int exchange_nesting(int nesting);
}  // namespace interp

}  // namespace stratus::engine

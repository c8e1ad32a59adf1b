#include "engine/stack_state.h"

#include <utility>

namespace stratus::engine {

StackState StackState::fresh(uintptr_t lo, uintptr_t hi) {
  StackState s;
  aot::fresh_stack_state(s, lo, hi);
  return s;
}

void StackState::save() {
  aot::save_stack_state(*this);
  interp_nesting = interp::exchange_nesting(0);
}

void StackState::restore() {
  aot::restore_stack_state(*this);
  interp::exchange_nesting(interp_nesting);
}

HeldLocks HeldLocks::release() {
  HeldLocks held;
  held.interp_ = interp::release_stack_locks();
  return held;
}

void HeldLocks::retake() { interp::retake_stack_locks(std::move(interp_)); }

}  // namespace stratus::engine

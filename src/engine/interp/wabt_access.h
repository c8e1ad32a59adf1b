// The few private parts of wabt 1.0.32's interpreter this backend needs.
//
// wabt offers no public way to start a call and then run it in slices (only
// Func::Call, which runs to completion), to size a Thread's call stack, or to
// cap a Memory below its declared maximum. Deadlines, call-depth limits and
// memory limits need exactly those, so we reach them through the rule that
// explicit template instantiations may name private members (C++20
// [temp.spec.general]/6). Everything of the kind lives in wabt_access.cc.
#pragma once

#include <cstdint>

#include <wabt/interp/interp.h>

namespace stratus::engine::interp {

namespace wi = wabt::interp;

// Sets the maximum number of frames the thread may hold (wabt traps with
// "call stack exhausted" beyond it). Call before the thread runs anything.
void set_call_stack_limit(wi::Thread& thread, uint32_t frames);

// Pushes `params` and a frame for `func`, without running: Thread::Run then
// executes it. Returns false (and sets *trap) if the frame does not fit.
bool begin_call(wi::Thread& thread, const wi::DefinedFunc& func, const wi::Values& params, wi::Trap::Ptr* trap);

// After Run returned RunResult::Return: pops the results of a call begun above.
void finish_call(wi::Thread& thread, const wi::ValueTypes& result_types, wi::Values* results);

// Values (operands and locals) on the thread's stack.
size_t value_stack_size(wi::Thread& thread);

// The instance whose code the thread is executing (null if none).
wi::Instance* current_instance(wi::Thread& thread);

// Lowers the memory's effective maximum to `max_pages` (never raises it).
void cap_memory_pages(wi::Memory& memory, uint64_t max_pages);

}  // namespace stratus::engine::interp

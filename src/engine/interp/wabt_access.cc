#include "engine/interp/wabt_access.h"

#include <vector>

namespace stratus::engine::interp {
namespace {

// `Grant<Tag, &Class::member>` defines `member(Tag{})`, returning the member
// pointer; the explicit instantiations below are where access is granted.
template <class Tag, typename Tag::type Member>
struct Grant {
  friend typename Tag::type member(Tag) { return Member; }
};

struct ThreadFrames {
  using type = std::vector<wi::Frame> wi::Thread::*;
  friend type member(ThreadFrames);
};
struct ThreadValues {
  using type = std::vector<wi::Value> wi::Thread::*;
  friend type member(ThreadValues);
};
struct ThreadPushValues {
  using type = void (wi::Thread::*)(const wi::ValueTypes&, const wi::Values&);
  friend type member(ThreadPushValues);
};
struct ThreadPopValues {
  using type = void (wi::Thread::*)(const wi::ValueTypes&, wi::Values*);
  friend type member(ThreadPopValues);
};
struct ThreadPushCall {
  using type = wi::RunResult (wi::Thread::*)(const wi::DefinedFunc&, wi::Trap::Ptr*);
  friend type member(ThreadPushCall);
};
struct MemoryType {
  using type = wi::MemoryType wi::Memory::*;
  friend type member(MemoryType);
};

template struct Grant<ThreadFrames, &wi::Thread::frames_>;
template struct Grant<ThreadValues, &wi::Thread::values_>;
template struct Grant<ThreadPushValues, &wi::Thread::PushValues>;
template struct Grant<ThreadPopValues, &wi::Thread::PopValues>;
template struct Grant<ThreadPushCall, &wi::Thread::PushCall>;
template struct Grant<MemoryType, &wi::Memory::type_>;

}  // namespace

void set_call_stack_limit(wi::Thread& thread, uint32_t frames) {
  auto& stack = thread.*member(ThreadFrames{});
  // wabt's limit is the vector's capacity; a fresh vector reserves exactly.
  std::vector<wi::Frame> fresh;
  fresh.reserve(frames);
  stack.swap(fresh);
}

bool begin_call(wi::Thread& thread, const wi::DefinedFunc& func, const wi::Values& params, wi::Trap::Ptr* trap) {
  (thread.*member(ThreadPushValues{}))(func.type().params, params);
  return (thread.*member(ThreadPushCall{}))(func, trap) != wi::RunResult::Trap;
}

void finish_call(wi::Thread& thread, const wi::ValueTypes& result_types, wi::Values* results) {
  (thread.*member(ThreadPopValues{}))(result_types, results);
}

size_t value_stack_size(wi::Thread& thread) { return (thread.*member(ThreadValues{})).size(); }

wi::Instance* current_instance(wi::Thread& thread) {
  auto& stack = thread.*member(ThreadFrames{});
  return stack.empty() ? nullptr : stack.back().inst;
}

void cap_memory_pages(wi::Memory& memory, uint64_t max_pages) {
  auto& limits = (memory.*member(MemoryType{})).limits;
  // wabt grows up to `max` whether or not the type declares one; leaving
  // has_max alone keeps the memory's declared type (and import matching) as is.
  if (limits.max > max_pages) limits.max = max_pages;
}

}  // namespace stratus::engine::interp

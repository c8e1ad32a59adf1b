#include "component/runtime/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/stack_state.h"
#include "support/trace_slot.h"

#if STRATUS_FIBER_UCONTEXT
#include <sanitizer/common_interface_defs.h>
#include <ucontext.h>
#else
#include <boost/context/fiber.hpp>
#endif

// ThreadSanitizer keeps a shadow call stack and a clock per thread; a stack
// switch it is not told of mixes two stacks' frames and reports races
// between a fiber and the thread it runs on. Each fiber gets a TSan context
// of its own, switched to just before the stack is (no flags: the switch
// orders what came before it with what follows, as a call would).
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRATUS_FIBER_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#endif

namespace stratus::component {
namespace {

// 1 MiB of stack a fiber: aot frames of deep wasm recursion overflow into
// the guard page and trap (the runtime's fault handler tells an overflow of
// this stack from an access past a memory), and only touched pages cost.
constexpr size_t kStackSize = size_t{1} << 20;
constexpr size_t kPooledStacks = 64;

struct Stack {
  void* base = nullptr;  // the guard page, at the low end
  size_t size = 0;       // with the guard page
};

// Freed stacks, for the next fiber of this thread.
struct StackPool {
  std::vector<Stack> free;
  ~StackPool() {
    for (auto& s : free) munmap(s.base, s.size);
  }
};
thread_local StackPool t_pool;

Stack take_stack() {
  if (!t_pool.free.empty()) {
    Stack s = t_pool.free.back();
    t_pool.free.pop_back();
    return s;
  }
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  Stack s;
  s.size = kStackSize + page;
  s.base = mmap(nullptr, s.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (s.base == MAP_FAILED) {
    std::fprintf(stderr, "stratus: cannot map a fiber stack\n");
    std::abort();
  }
  mprotect(s.base, page, PROT_NONE);
  return s;
}

void give_back(Stack s) {
  if (t_pool.free.size() < kPooledStacks) {
    t_pool.free.push_back(s);
  } else {
    munmap(s.base, s.size);
  }
}

thread_local Fiber* t_current = nullptr;

}  // namespace

#if STRATUS_FIBER_UCONTEXT

// The sanitizer build: glibc's ucontext, with AddressSanitizer told of every
// stack switch (Debian's Boost.Context has only its fcontext flavour, which
// does not tell it).

struct Fiber::Impl {
  std::function<void()> body;
  Stack stack;
  ucontext_t self{};
  ucontext_t back{};
  engine::StackState state;
  void* trace = nullptr;  // its t_trace_slot while parked (the resumer's when first resumed)
  bool started = false;
  bool finished = false;
  void* fake_stack = nullptr;
  const void* back_bottom = nullptr;
  size_t back_size = 0;
};

namespace {

size_t guard_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

void fiber_entry(unsigned hi, unsigned lo) {
  auto* impl = reinterpret_cast<Fiber::Impl*>((static_cast<uintptr_t>(hi) << 32) | lo);
  __sanitizer_finish_switch_fiber(nullptr, &impl->back_bottom, &impl->back_size);
  impl->body();
  impl->finished = true;
  // This stack is done: nothing of it is kept.
  __sanitizer_start_switch_fiber(nullptr, impl->back_bottom, impl->back_size);
  setcontext(&impl->back);
}

}  // namespace

Fiber::Fiber(std::function<void()> body) : impl_(std::make_unique<Impl>()) {
  impl_->body = std::move(body);
  impl_->stack = take_stack();
  auto base = reinterpret_cast<uintptr_t>(impl_->stack.base);
  impl_->state = engine::StackState::fresh(base, base + impl_->stack.size);
  getcontext(&impl_->self);
  impl_->self.uc_stack.ss_sp = static_cast<char*>(impl_->stack.base) + guard_size();
  impl_->self.uc_stack.ss_size = impl_->stack.size - guard_size();
  impl_->self.uc_link = nullptr;
  auto p = reinterpret_cast<uintptr_t>(impl_.get());
  makecontext(&impl_->self, reinterpret_cast<void (*)()>(fiber_entry), 2, static_cast<unsigned>(p >> 32),
              static_cast<unsigned>(p & 0xffffffffu));
}

Fiber::~Fiber() {
  if (impl_->started && !impl_->finished) {
    std::fprintf(stderr, "stratus: a parked fiber was destroyed\n");
    std::abort();
  }
  give_back(impl_->stack);
}

void Fiber::resume() {
  engine::HeldLocks mine_held = engine::HeldLocks::release();
  engine::StackState mine;
  mine.save();
  impl_->state.restore();
  Fiber* prev = t_current;
  t_current = this;
  void* trace = t_trace_slot;
  if (!impl_->started) impl_->trace = trace;
  t_trace_slot = impl_->trace;
  impl_->started = true;
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, impl_->self.uc_stack.ss_sp, impl_->self.uc_stack.ss_size);
  swapcontext(&impl_->back, &impl_->self);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
  t_current = prev;
  impl_->trace = t_trace_slot;
  t_trace_slot = trace;
  impl_->state.save();
  mine.restore();
  mine_held.retake();
}

void Fiber::park() {
  Impl* impl = t_current->impl_.get();
  engine::HeldLocks held = engine::HeldLocks::release();
  __sanitizer_start_switch_fiber(&impl->fake_stack, impl->back_bottom, impl->back_size);
  swapcontext(&impl->self, &impl->back);
  __sanitizer_finish_switch_fiber(impl->fake_stack, &impl->back_bottom, &impl->back_size);
  held.retake();
}

#else

namespace ctx = boost::context;

struct Fiber::Impl {
  std::function<void()> body;
  ctx::fiber self;  // the fiber, while parked or not yet started
  ctx::fiber back;  // whoever resumed it, while it runs
  engine::StackState state;
  void* trace = nullptr;  // its t_trace_slot while parked (the resumer's when first resumed)
  bool started = false;
  bool finished = false;
#if STRATUS_FIBER_TSAN
  void* tsan_self = nullptr;  // this fiber's TSan context
  void* tsan_back = nullptr;  // its resumer's, while it runs
#endif
};

namespace {

// Boost.Context's stack allocator concept over the pool; tells the fiber
// its stack's bounds for the engines' overflow detection.
class PooledStack {
 public:
  explicit PooledStack(Fiber::Impl* impl) : impl_(impl) {}
  ctx::stack_context allocate() {
    Stack s = take_stack();
    ctx::stack_context sc;
    sc.size = s.size;
    sc.sp = static_cast<char*>(s.base) + s.size;
    impl_->state =
        engine::StackState::fresh(reinterpret_cast<uintptr_t>(s.base), reinterpret_cast<uintptr_t>(s.base) + s.size);
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept { give_back(Stack{static_cast<char*>(sc.sp) - sc.size, sc.size}); }

 private:
  Fiber::Impl* impl_;
};

}  // namespace

Fiber::Fiber(std::function<void()> body) : impl_(std::make_unique<Impl>()) {
  impl_->body = std::move(body);
  Impl* impl = impl_.get();
#if STRATUS_FIBER_TSAN
  // Boost enters the new stack once to set it up (and leaves a frame of its
  // own there): in the fiber's TSan context, so that no frame of it is left
  // on the creator's shadow stack.
  impl_->tsan_self = __tsan_create_fiber(0);
  void* creator = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(impl_->tsan_self, 0);
#endif
  impl_->self = ctx::fiber(std::allocator_arg, PooledStack(impl), [impl](ctx::fiber&& back) {
    impl->back = std::move(back);
    impl->body();
    impl->finished = true;
#if STRATUS_FIBER_TSAN
    __tsan_switch_to_fiber(impl->tsan_back, 0);
#endif
    return std::move(impl->back);
  });
#if STRATUS_FIBER_TSAN
  __tsan_switch_to_fiber(creator, 0);
#endif
}

Fiber::~Fiber() {
  if (impl_->started && !impl_->finished) {
    // Boost would unwind it with an exception through wasm frames.
    std::fprintf(stderr, "stratus: a parked fiber was destroyed\n");
    std::abort();
  }
#if STRATUS_FIBER_TSAN
  if (!impl_->started) {
    // Boost unwinds a fiber that never ran on its own stack: in its context.
    void* destroyer = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(impl_->tsan_self, 0);
    impl_->self = ctx::fiber();
    __tsan_switch_to_fiber(destroyer, 0);
  }
  __tsan_destroy_fiber(impl_->tsan_self);
#endif
}

void Fiber::resume() {
  engine::HeldLocks mine_held = engine::HeldLocks::release();
  engine::StackState mine;
  mine.save();
  impl_->state.restore();
  Fiber* prev = t_current;
  t_current = this;
  void* trace = t_trace_slot;
  if (!impl_->started) impl_->trace = trace;
  t_trace_slot = impl_->trace;
  impl_->started = true;
#if STRATUS_FIBER_TSAN
  impl_->tsan_back = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(impl_->tsan_self, 0);
#endif
  impl_->self = std::move(impl_->self).resume();
  t_current = prev;
  impl_->trace = t_trace_slot;
  t_trace_slot = trace;
  impl_->state.save();
  mine.restore();
  mine_held.retake();
}

void Fiber::park() {
  Fiber* f = t_current;
  engine::HeldLocks held = engine::HeldLocks::release();
#if STRATUS_FIBER_TSAN
  __tsan_switch_to_fiber(f->impl_->tsan_back, 0);
#endif
  f->impl_->back = std::move(f->impl_->back).resume();
  held.retake();
}

#endif

Fiber* Fiber::current() { return t_current; }
bool Fiber::started() const { return impl_->started; }
bool Fiber::finished() const { return impl_->finished; }

}  // namespace stratus::component

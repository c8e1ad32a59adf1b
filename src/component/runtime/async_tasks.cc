// The store, threads and tasks of runtime/async.h (CanonicalABI.md
// "Embedding", "Threads", "Tasks").
#include <algorithm>

#include "component/runtime/funcs.h"
#include "component/runtime/instance_state.h"

namespace stratus::component {
namespace {

thread_local Thread* t_thread = nullptr;

}  // namespace

// ------------------------------------------------------------ Store

Store::~Store() {
  try {
    unwind_parked();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor; what unwinding could not do stays undone
  }
}

bool Store::tick() {
  Thread* next = nullptr;
  for (Thread* t : waiting) {
    if (t->on_fiber() && t->ready() && t->task().inst->may_enter_from(nullptr)) {
      next = t;
      break;
    }
  }
  if (next == nullptr) return false;
  // Resuming takes it off `waiting`.
  InstanceState* inst = next->task().inst;
  nesting_depth += 1;
  inst->enter_from(nullptr);
  next->resume();
  inst->leave_to(nullptr);
  nesting_depth -= 1;
  return true;
}

void Store::poison(engine::Trap trap) {
  if (!trap_) trap_ = std::move(trap);
}

void Store::unwind_parked(const InstanceState* only) {
  auto belongs = [only](const Thread& t) {
    if (only == nullptr) return true;
    for (const InstanceState* s = t.task().inst; s != nullptr; s = s->parent())
      if (s == only) return true;
    return false;
  };
  bool set_here = false;
  for (;;) {
    std::shared_ptr<Thread> next;
    std::vector<Thread*> never_started;
    for (auto& [raw, t] : live) {
      if (!belongs(*t) || t->running()) continue;
      if (!t->fiber_->started()) {
        never_started.push_back(raw);
        continue;
      }
      next = t;
      break;
    }
    for (Thread* t : never_started) {
      if (t->in_waiting_list_) t->stop_waiting();
      live.erase(t);
    }
    if (!next) break;
    if (!trap_) {
      trap_ = async_trap("the component instance was torn down while a task was blocked");
      set_here = true;
    }
    next->unwinding_ = true;
    next->resume();
  }
  if (set_here) trap_.reset();
}

// ------------------------------------------------------------ Thread

Thread::Thread(std::shared_ptr<Task> task, std::function<void()> func, bool on_fiber)
    : task_(std::move(task)), func_(std::move(func)) {
  if (on_fiber) {
    fiber_ = std::make_unique<Fiber>([this] {
      func_();
      finished_ = true;
    });
  }
}

Thread::~Thread() {
  if (in_waiting_list_) stop_waiting();
}

Thread* Thread::current() { return t_thread; }

Thread::Scope::Scope(Thread* t) : saved_(t_thread) { t_thread = t; }
Thread::Scope::~Scope() { t_thread = saved_; }

Store& Thread::store() const { return task_->inst->store(); }

void Thread::start_waiting(std::function<bool()> ready) {
  ready_func_ = std::move(ready);
  in_waiting_list_ = true;
  store().waiting.push_back(this);
}

void Thread::stop_waiting() {
  ready_func_ = nullptr;
  if (!in_waiting_list_) return;
  in_waiting_list_ = false;
  auto& w = store().waiting;
  w.erase(std::find(w.begin(), w.end(), this));
}

void Thread::resume_later() {
  start_waiting([] { return true; });
}

Thread* Thread::resume(bool cancelled) {
  if (waiting()) stop_waiting();
  Thread* t = this;
  bool c = cancelled;
  while (t != nullptr) {
    if (!t->on_fiber()) {
      // Blocked on a stack below this call: it goes on when control gets
      // back there (Thread::block_here).
      t->woken_ = true;
      t->resumed_cancelled_ = c;
      return t;
    }
    std::shared_ptr<Thread> keep = t->shared_from_this();
    t->switch_to_ = nullptr;
    t->resumed_cancelled_ = c;
    t->running_ = true;
    {
      Scope scope(t);
      t->fiber_->resume();
    }
    t->running_ = false;
    Thread* next = t->switch_to_;
    if (t->finished_) t->store().live.erase(t);
    t = next;
    c = false;
  }
  return nullptr;
}

MaybeTrap Thread::block(bool cancellable, Thread* switch_to, bool* cancelled) {
  cancellable_ = cancellable;
  *cancelled = false;
  if (!on_fiber()) return block_here(switch_to);
  switch_to_ = switch_to;
  running_ = false;
  Fiber::park();
  if (unwinding_) {
    if (waiting()) stop_waiting();
    return store().trap() ? *store().trap() : async_trap("the store was torn down while a task was blocked");
  }
  *cancelled = resumed_cancelled_;
  return std::nullopt;
}

// A thread on its caller's stack cannot park: it runs the ready threads of
// its instance from here until it is ready or switched to (canon_lift's
// loop for a sync-typed call), and traps when there is none.
MaybeTrap Thread::block_here(Thread* switch_to) {
  running_ = false;
  woken_ = false;
  resumed_cancelled_ = false;
  Thread* next = switch_to;
  auto stop = [this](MaybeTrap t) -> MaybeTrap {
    if (waiting()) stop_waiting();
    running_ = true;
    return t;
  };
  for (;;) {
    if (next == nullptr) {
      if (woken_) break;
      if (waiting() && ready_func_()) {
        stop_waiting();
        break;
      }
      InstanceState& inst = *task_->inst;
      for (Thread* t : inst.threads) {
        if (t != nullptr && t != this && t->on_fiber() && t != inst.exclusive_thread && t->ready()) {
          next = t;
          break;
        }
      }
      if (next == nullptr) {
        // What it waits for may come from the host (an async host call, a
        // host end of a stream): wait for that, in slices, so that a trap
        // elsewhere is seen.
        auto& reactor = store().reactor;
        if (!reactor.busy()) return stop(async_trap("cannot block a synchronous task before returning"));
        reactor.run(true, Reactor::Clock::now() + std::chrono::milliseconds(100));
        if (store().trap()) return stop(*store().trap());
        continue;
      }
    }
    next->resume();
    next = nullptr;
    if (store().trap()) return stop(*store().trap());
  }
  running_ = true;
  return std::nullopt;
}

MaybeTrap Thread::suspend(bool cancellable, bool* cancelled) {
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  return block(cancellable, nullptr, cancelled);
}

MaybeTrap Thread::wait_until(std::function<bool()> ready, bool cancellable, bool* cancelled) {
  *cancelled = false;
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  // The spec lets the embedder go on when the condition holds already.
  if (ready()) return std::nullopt;
  start_waiting(std::move(ready));
  return block(cancellable, nullptr, cancelled);
}

MaybeTrap Thread::yield(bool cancellable, bool* cancelled) {
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  start_waiting([] { return true; });
  return block(cancellable, nullptr, cancelled);
}

MaybeTrap Thread::suspend_then_resume(bool cancellable, Thread* other, bool* cancelled) {
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  return block(cancellable, other, cancelled);
}

MaybeTrap Thread::yield_then_resume(bool cancellable, Thread* other, bool* cancelled) {
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  start_waiting([] { return true; });
  return block(cancellable, other, cancelled);
}

MaybeTrap Thread::suspend_then_promote(bool cancellable, Thread* other, bool* cancelled) {
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  if (other->ready()) {
    other->stop_waiting();
    return suspend_then_resume(cancellable, other, cancelled);
  }
  return suspend(cancellable, cancelled);
}

MaybeTrap Thread::yield_then_promote(bool cancellable, Thread* other, bool* cancelled) {
  if (task_->deliver_pending_cancel(cancellable)) {
    *cancelled = true;
    return std::nullopt;
  }
  if (other->ready()) {
    other->stop_waiting();
    return yield_then_resume(cancellable, other, cancelled);
  }
  return yield(cancellable, cancelled);
}

// ------------------------------------------------------------ Task

bool Task::async() const { return ft->async; }
bool Task::needs_exclusive() const { return !opts->async || opts->callback != nullptr; }

MaybeTrap Task::enter_implicit_thread(bool* entered) {
  *entered = false;
  implicit_thread = Thread::current();
  if (ft->async) {
    auto has_backpressure = [this] {
      return inst->backpressure > 0 || (needs_exclusive() && inst->exclusive_thread != nullptr);
    };
    // The thread holding the instance's exclusive lock may be ready to go
    // on (what it waited for happened): it runs first, from here, so that a
    // call arriving behind it starts once it lets go (as the reference
    // tests expect, async/sync-streams.wast).
    while (inst->backpressure == 0 && needs_exclusive() && inst->num_waiting_to_enter == 0) {
      Thread* holder = inst->exclusive_thread;
      if (holder == nullptr || !holder->on_fiber() || !holder->ready()) break;
      holder->resume();
      if (const auto& t = inst->store().trap()) return *t;
    }
    if (has_backpressure() || inst->num_waiting_to_enter > 0) {
      inst->num_waiting_to_enter += 1;
      bool cancelled = false;
      // Waits even when there is no backpressure left (others wait first):
      // a yield, so that the earlier ones go in first.
      implicit_thread->start_waiting([has_backpressure] { return !has_backpressure(); });
      auto t = implicit_thread->block(true, nullptr, &cancelled);
      inst->num_waiting_to_enter -= 1;
      if (t) return t;
      if (cancelled) return cancel();
    }
    if (needs_exclusive()) inst->exclusive_thread = implicit_thread;
  }
  STRATUS_TRAP_TRY(register_thread(implicit_thread));
  *entered = true;
  return std::nullopt;
}

MaybeTrap Task::exit_implicit_thread() {
  auto t = unregister_thread(implicit_thread);
  if (ft->async && needs_exclusive() && inst->exclusive_thread == implicit_thread) inst->exclusive_thread = nullptr;
  return t;
}

MaybeTrap Task::register_thread(Thread* t) {
  threads.push_back(t);
  if (!inst->free_threads.empty()) {
    t->index = inst->free_threads.back();
    inst->free_threads.pop_back();
    inst->threads[t->index] = t;
  } else {
    if (inst->threads.size() > HandleTable::kMaxLength) return async_trap("thread table is full");
    t->index = static_cast<uint32_t>(inst->threads.size());
    inst->threads.push_back(t);
  }
  return std::nullopt;
}

MaybeTrap Task::unregister_thread(Thread* t) {
  threads.erase(std::find(threads.begin(), threads.end(), t));
  if (t->index != 0) {
    inst->threads[t->index] = nullptr;
    inst->free_threads.push_back(t->index);
    t->index = 0;
  }
  if (threads.empty() && state != State::Resolved)
    return async_trap("async-lifted function exited without calling task.return or task.cancel");
  return std::nullopt;
}

void Task::request_cancellation(InstanceState* caller) {
  if (state == State::Initial) {
    state = State::CancelDelivered;
    implicit_thread->resume(true);
    return;
  }
  Thread* candidate = nullptr;
  for (Thread* t : threads) {
    if (!t->cancellable() || !t->on_fiber() || t->running()) continue;
    if (t == implicit_thread && needs_exclusive() && inst->exclusive_thread != nullptr &&
        inst->exclusive_thread != implicit_thread)
      continue;
    candidate = t;
    break;
  }
  if (candidate != nullptr && inst->may_enter_from(caller)) {
    state = State::CancelDelivered;
    inst->enter_from(caller);
    candidate->resume(true);
    inst->leave_to(caller);
  } else {
    state = State::PendingCancel;
  }
}

bool Task::deliver_pending_cancel(bool cancellable) {
  if (cancellable && state == State::PendingCancel) {
    state = State::CancelDelivered;
    return true;
  }
  return false;
}

std::optional<std::vector<Val>> Task::start() {
  state = State::Started;
  return on_start();
}

MaybeTrap Task::return_(std::optional<Val> result) {
  if (state == State::Resolved) return async_trap("task.return called after the task already returned or cancelled");
  if (borrows.num_borrows > 0) return async_trap("borrow handles still remain at the end of the call");
  state = State::Resolved;
  on_resolve(Resolution{false, std::move(result)});
  if (const auto& t = inst->store().trap()) return *t;
  return std::nullopt;
}

MaybeTrap Task::cancel() {
  if (state != State::CancelDelivered) return async_trap("task.cancel called when no cancellation was delivered");
  if (borrows.num_borrows > 0) return async_trap("borrow handles still remain at the end of the call");
  state = State::Resolved;
  on_resolve(Resolution{true, std::nullopt});
  if (const auto& t = inst->store().trap()) return *t;
  return std::nullopt;
}

// ------------------------------------------------------------ helpers

Thread& current_thread_of(InstanceState& inst) {
  if (Thread* t = Thread::current()) return *t;
  return inst.outside_thread();
}

}  // namespace stratus::component

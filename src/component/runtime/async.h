// The async half of the Component Model (CanonicalABI.md, "Concurrency"
// and "Runtime State"): the store's scheduler, threads, tasks, subtasks,
// waitables and waitable sets, streams, futures and error contexts. The
// classes follow definitions.py's, with these choices of an embedder:
//  - a thread of an async-typed call runs on a fiber of its own (fiber.h);
//    a thread of a sync-typed call runs on its caller's stack, and when it
//    must block it resumes the ready threads of its instance from there
//    (canon_lift's loop for sync-typed calls, run where the thread blocks);
//  - a wait whose condition already holds returns at once; a yield always
//    lets the other ready threads run first;
//  - a trap anywhere ends the whole store (the spec's trap): the first one
//    is kept, every stack unwinds to its host-facing call, and parked
//    fibers are resumed only to unwind.
// Private to runtime/.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "component/canon/abi.h"
#include "component/runtime/fiber.h"
#include "component/runtime/handle_table.h"
#include "component/runtime/host_async.h"
#include "component/runtime/reactor.h"
#include "component/val.h"
#include "engine/engine.h"

namespace stratus::component {

class InstanceState;
class Task;
class Thread;
struct RtCanonOptions;

using MaybeTrap = std::optional<engine::Trap>;
#define STRATUS_TRAP_TRY(expr)             \
  do {                                     \
    if (auto trap_ = (expr)) return trap_; \
  } while (0)
inline engine::Trap async_trap(std::string message) {
  return engine::Trap{engine::TrapKind::Other, std::move(message), 0};
}

// CanonicalABI.md EventCode, CopyResult, Subtask.State and BLOCKED.
enum class EventCode : uint32_t {
  None = 0,
  Subtask = 1,
  StreamRead = 2,
  StreamWrite = 3,
  FutureRead = 4,
  FutureWrite = 5,
  TaskCancelled = 6
};
struct Event {
  EventCode code = EventCode::None;
  uint32_t index = 0;
  uint32_t payload = 0;
};
constexpr uint32_t kBlocked = 0xffffffffu;

// ------------------------------------------------------------ scheduling

// The Component Model's store: the threads waiting to be resumed, and the
// first trap (after which nothing in it runs again). One per linker.
class Store {
 public:
  Store() = default;
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Store.tick: resumes one ready waiting thread (the oldest); false when
  // none is ready.
  bool tick();
  // Records the first trap; every stack then unwinds.
  void poison(engine::Trap trap);
  const MaybeTrap& trap() const { return trap_; }
  void clear_trap() { trap_.reset(); }
  // Resumes every parked fiber so that it unwinds (its blocking built-in
  // traps), after a trap or when its instance goes away.
  void unwind_parked(const InstanceState* only = nullptr);

  std::vector<Thread*> waiting;
  int nesting_depth = 0;
  // Threads on fibers, alive until their function returns.
  std::unordered_map<Thread*, std::shared_ptr<Thread>> live;
  // What async host functions and host stream ends wait on.
  Reactor reactor;

 private:
  MaybeTrap trap_;
};

// CanonicalABI.md Thread.
class Thread : public std::enable_shared_from_this<Thread> {
 public:
  // A thread whose function runs on a fiber (`on_fiber`) or on the stack of
  // whoever starts it.
  Thread(std::shared_ptr<Task> task, std::function<void()> func, bool on_fiber);
  ~Thread();

  // The thread running on this OS thread's current stack (null: the host).
  static Thread* current();
  // Makes `t` current for a scope (a thread started on its caller's stack).
  class Scope {
   public:
    explicit Scope(Thread* t);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Thread* saved_;
  };

  Task& task() const { return *task_; }
  const std::shared_ptr<Task>& task_ptr() const { return task_; }
  Store& store() const;
  bool on_fiber() const { return fiber_ != nullptr; }
  // A thread not on a fiber: runs `f` as its function, now, on this stack.
  template <class F>
  void run_here(F&& f) {
    Scope scope(this);
    running_ = true;
    f();
    running_ = false;
    finished_ = true;
  }

  bool running() const { return running_; }
  bool waiting() const { return !running_ && ready_func_ != nullptr; }
  bool suspended() const { return !running_ && ready_func_ == nullptr; }
  bool ready() const { return waiting() && ready_func_(); }
  bool finished() const { return finished_; }
  bool cancellable() const { return cancellable_; }

  // Thread.resume_later.
  void resume_later();
  // Thread.resume: runs this thread (and any it switches to) until they
  // block. Must be called from outside the thread. When a thread it ran
  // switches to a thread running on a stack below this call (a sync-typed
  // call blocked there), that thread is returned for the caller to go back to.
  Thread* resume(bool cancelled = false);

  // The blocking operations, called by the thread itself; `cancelled` is
  // the spec's Cancelled result. A trap when the store is torn down or a
  // sync-typed call would block with nothing else to run.
  MaybeTrap suspend(bool cancellable, bool* cancelled);
  MaybeTrap wait_until(std::function<bool()> ready, bool cancellable, bool* cancelled);
  MaybeTrap yield(bool cancellable, bool* cancelled);
  MaybeTrap suspend_then_resume(bool cancellable, Thread* other, bool* cancelled);
  MaybeTrap yield_then_resume(bool cancellable, Thread* other, bool* cancelled);
  MaybeTrap suspend_then_promote(bool cancellable, Thread* other, bool* cancelled);
  MaybeTrap yield_then_promote(bool cancellable, Thread* other, bool* cancelled);

  uint32_t index = 0;  // in the instance's thread table; 0 before it is registered
  std::array<uint32_t, 2> storage{};

 private:
  friend class Store;
  friend class Task;
  void start_waiting(std::function<bool()> ready);
  void stop_waiting();
  MaybeTrap block(bool cancellable, Thread* switch_to, bool* cancelled);
  MaybeTrap block_here(Thread* switch_to);

  std::shared_ptr<Task> task_;
  std::function<void()> func_;
  std::unique_ptr<Fiber> fiber_;
  std::function<bool()> ready_func_;
  bool running_ = false;
  bool finished_ = false;
  bool cancellable_ = false;
  bool in_waiting_list_ = false;
  // Exchanged between block() and resume().
  bool resumed_cancelled_ = false;
  bool woken_ = false;      // a thread off a fiber was switched to
  bool unwinding_ = false;  // resumed only to unwind
  Thread* switch_to_ = nullptr;
};

// What a callee hands its caller: the lifted arguments, when it is ready for
// them (nullopt: lifting trapped, the store is poisoned); and the result or,
// after cancellation, nothing.
struct Resolution {
  bool cancelled = false;
  std::optional<Val> value;
};
using OnStart = std::function<std::optional<std::vector<Val>>()>;
using OnResolve = std::function<void(Resolution)>;
using OnCancel = std::function<void(InstanceState* caller)>;

// CanonicalABI.md Task: one call of a lifted function.
class Task : public std::enable_shared_from_this<Task> {
 public:
  enum class State { Initial, Started, PendingCancel, CancelDelivered, Resolved };

  Task(const FuncType* ft, const RtCanonOptions* opts, InstanceState* inst, OnStart on_start, OnResolve on_resolve)
      : ft(ft), opts(opts), inst(inst), on_start(std::move(on_start)), on_resolve(std::move(on_resolve)) {}

  bool needs_exclusive() const;
  // False when cancelled while waiting for backpressure.
  MaybeTrap enter_implicit_thread(bool* entered);
  MaybeTrap exit_implicit_thread();
  MaybeTrap register_thread(Thread* t);
  MaybeTrap unregister_thread(Thread* t);
  void request_cancellation(InstanceState* caller);
  bool deliver_pending_cancel(bool cancellable);
  std::optional<std::vector<Val>> start();
  MaybeTrap return_(std::optional<Val> result);
  MaybeTrap cancel();

  const FuncType* ft;
  const RtCanonOptions* opts;
  InstanceState* inst;
  OnStart on_start;
  OnResolve on_resolve;
  State state = State::Initial;
  BorrowScope borrows;
  Thread* implicit_thread = nullptr;
  std::vector<Thread*> threads;
  bool async() const;
};

// ------------------------------------------------------------ waitables

class WaitableSet;

// A waitable: a subtask or an end of a stream or future.
class Waitable : public AsyncHandle {
 public:
  using AsyncHandle::AsyncHandle;
  ~Waitable() override;
  void set_pending_event(std::function<Event()> e) { pending_ = std::move(e); }
  bool has_pending_event() const { return pending_ != nullptr; }
  Event take_pending_event();
  bool in_waitable_set() const { return wset_ != nullptr; }
  MaybeTrap wait_for_pending_event(Thread& thread);
  void join(WaitableSet* wset);
  void leave_set() { join(nullptr); }

  bool has_sync_waiter = false;

 private:
  friend class WaitableSet;
  std::function<Event()> pending_;
  WaitableSet* wset_ = nullptr;
};

class WaitableSet : public AsyncHandle {
 public:
  WaitableSet() : AsyncHandle(Kind::WaitableSet) {}
  ~WaitableSet() override;
  bool has_pending_event() const;
  Event take_pending_event();
  MaybeTrap wait_for_event_and(Thread& thread, std::function<bool()> ready, bool cancellable, Event* out);
  Event poll(Thread& thread, bool cancellable);

  std::vector<Waitable*> elems;
  uint32_t num_waiting = 0;
};

// The caller's side of a call (CanonicalABI.md Subtask).
class Subtask : public Waitable {
 public:
  enum class State : uint32_t {
    Starting = 0,
    Started = 1,
    Returned = 2,
    CancelledBeforeStarted = 3,
    CancelledBeforeReturned = 4
  };
  Subtask() : Waitable(Kind::Subtask) {}
  bool resolved() const { return state >= State::Returned; }
  void resolve(State s) { state = s; }
  // Returns the handles lent for the call's borrows.
  void deliver_resolve();
  bool resolve_delivered() const { return delivered_; }

  State state = State::Starting;
  OnCancel on_cancel;
  std::function<void()> release_lends;  // run by deliver_resolve
  bool cancellation_requested = false;

 private:
  bool delivered_ = false;
};

// A stream's or future's element type as one side wrote it: resource
// types in it are resolved through that side's instance.
struct ElementType {
  std::optional<ValType> type;
  std::weak_ptr<InstanceState> owner;
  // A stream or future the host made without naming its element type
  // (generated bindings): it takes the type of the first guest it is
  // lowered into.
  bool deferred = false;
};
bool same_element(const ElementType& a, const ElementType& b);

// CanonicalABI.md Buffer: `length` elements to copy, `progress` of them
// done: a guest's range of memory (GuestBuffer) or the host's elements
// (HostBuffer).
class GuestBuffer;
class HostBuffer;
class CopyBuffer {
 public:
  CopyBuffer(ElementType t, uint32_t length) : t_(std::move(t)), length_(length) {}
  virtual ~CopyBuffer() = default;
  CopyBuffer(const CopyBuffer&) = delete;
  CopyBuffer& operator=(const CopyBuffer&) = delete;
  uint32_t remain() const { return length_ - progress_; }
  bool is_zero_length() const { return length_ == 0; }
  uint32_t progress() const { return progress_; }
  const ElementType& type() const { return t_; }
  // The instance whose memory it is; null for the host's.
  virtual InstanceState* inst() const = 0;
  // Moves `n` elements from `src` into this buffer (src.remain() and
  // remain() are at least n).
  MaybeTrap copy_from(CopyBuffer& src, uint32_t n);

 protected:
  friend class GuestBuffer;
  friend class HostBuffer;
  ElementType t_;
  uint32_t length_;
  uint32_t progress_ = 0;
};

class GuestBuffer final : public CopyBuffer {
 public:
  GuestBuffer(InstanceState& inst, const RtCanonOptions& opts, ElementType t, uint32_t ptr, uint32_t length)
      : CopyBuffer(std::move(t), length), inst_(inst), opts_(opts), ptr_(ptr) {}
  // The eager alignment and bounds checks of BufferGuestImpl.
  MaybeTrap check() const;
  InstanceState* inst() const override { return &inst_; }

 private:
  friend class CopyBuffer;
  friend class HostBuffer;
  // Guest to guest: byte for byte when the elements are numbers, else
  // lifted from one side and lowered into the other.
  MaybeTrap copy_from_guest(GuestBuffer& src, uint32_t n);
  MaybeTrap copy_from_host(HostBuffer& src, uint32_t n);
  InstanceState& inst_;
  const RtCanonOptions& opts_;
  uint32_t ptr_;
};

// The host's elements: what it writes (made full) or room for what it
// reads (made empty, filled as copies come).
class HostBuffer final : public CopyBuffer {
 public:
  HostBuffer(ElementType t, HostElements elements)
      : CopyBuffer(std::move(t), elements.count), elements_(std::move(elements)) {}
  HostBuffer(ElementType t, uint32_t room) : CopyBuffer(std::move(t), room) {}
  InstanceState* inst() const override { return nullptr; }
  // What a reading buffer received so far (taken out).
  HostElements take();

 private:
  friend class CopyBuffer;
  friend class GuestBuffer;
  MaybeTrap copy_from_guest(GuestBuffer& src, uint32_t n);
  MaybeTrap copy_from_host(HostBuffer& src, uint32_t n);
  HostElements elements_;
};

using OnCopy = std::function<void(std::function<void()> reclaim)>;
using OnCopyDone = std::function<void(CopyResult)>;

// The state a stream's two ends share (SharedStreamImpl) and a future's
// (SharedFutureImpl): a copy waiting for its other half, and whether an end
// was dropped.
class SharedChannel : public AsyncObject {
 public:
  SharedChannel(bool is_stream, ElementType t) : is_stream(is_stream), t(std::move(t)) {}
  // `inst` is the reader's (writer's) instance, null for the host.
  MaybeTrap read(InstanceState* inst, std::shared_ptr<CopyBuffer> dst, OnCopy on_copy, OnCopyDone on_copy_done);
  MaybeTrap write(InstanceState* inst, std::shared_ptr<CopyBuffer> src, OnCopy on_copy, OnCopyDone on_copy_done);
  // Whether the copy waiting for its other half is the one with `buffer`.
  bool pending_is(const CopyBuffer* buffer) const { return pending_buffer_.get() == buffer && buffer != nullptr; }
  void cancel() { reset_and_notify(CopyResult::Cancelled); }
  void drop();
  // An end going away with its own copy pending (its instance is gone).
  void forget_pending(const InstanceState* inst);

  const bool is_stream;
  ElementType t;  // set once, unless deferred (then by the first guest that receives it)
  bool dropped = false;

 private:
  // The copy waiting for its other half (SharedStreamImpl.set_pending).
  void set_pending(InstanceState* inst, std::shared_ptr<CopyBuffer> buffer, OnCopy on_copy, OnCopyDone on_copy_done);
  bool same_side(const InstanceState* inst) const { return inst != nullptr && inst == pending_inst_; }
  void reset_pending();
  void reset_and_notify(CopyResult r);
  InstanceState* pending_inst_ = nullptr;
  std::shared_ptr<CopyBuffer> pending_buffer_;
  OnCopy pending_on_copy_;
  OnCopyDone pending_on_copy_done_;
};

// CanonicalABI.md CopyEnd and its four kinds (AsyncHandle::Kind).
class CopyEnd : public Waitable {
 public:
  enum class State { Idle, Copying, CancellingCopy, Done };
  CopyEnd(Kind kind, std::shared_ptr<SharedChannel> shared, InstanceState* inst)
      : Waitable(kind), shared(std::move(shared)), inst(inst) {}
  ~CopyEnd() override;
  bool copying() const { return state == State::Copying || state == State::CancellingCopy; }
  bool readable() const { return kind == Kind::StreamReadable || kind == Kind::FutureReadable; }
  // Dropping the end (the spec's CopyEnd.drop after its guards).
  void drop_end();

  State state = State::Idle;
  // The pending event reports progress of a copy that is still under way
  // (OnCopy), not its end (OnCopyDone).
  bool progress_event = false;
  std::shared_ptr<SharedChannel> shared;
  InstanceState* inst;  // whose table holds it
  bool dropped_ = false;
};

class ErrorContextValue : public AsyncObject {
 public:
  explicit ErrorContextValue(std::string message) : debug_message(std::move(message)) {}
  const std::string debug_message;
};

class ErrorContextHandle : public AsyncHandle {
 public:
  explicit ErrorContextHandle(std::shared_ptr<ErrorContextValue> v)
      : AsyncHandle(Kind::ErrorContext), value(std::move(v)) {}
  std::shared_ptr<ErrorContextValue> value;
};

// ------------------------------------------------------------ helpers

// The thread a built-in runs on: the current one, or, when core code runs
// outside any call (a start function), a thread of a sync task made for it.
Thread& current_thread_of(InstanceState& inst);

// lift_{stream,future,error_context} and lower_* for the canonical ABI's
// resource hooks of one side of a call (funcs.cc's CallHooks).
Result<Val> lift_async_value(InstanceState& inst, const ValType& t, uint32_t index);
Result<uint32_t> lower_async_value(InstanceState& inst, const ValType& t, const Val& v);

}  // namespace stratus::component

// The async runtime of C++ guests: written by `stratus bindgen --guest cpp`
// next to the bindings of a world that has async functions, streams or
// futures. Do not edit the copy; it is the same for every world.
//
// Async functions are C++20 coroutines returning `stratus_guest::Task<T>`:
//
//   Task<std::expected<Response, ErrorCode>> handle(Request request) {
//     auto [writer, reader] = stratus_guest::make_stream<uint8_t>();
//     ...
//     stratus_guest::spawn(send_body(std::move(writer)));  // runs on after we return
//     co_return response;
//   }
//
// An exported async function is a component-model task lifted with a
// callback (CanonicalABI.md, "callback" ABI): the task's coroutines run until
// they all wait, the export returns WAIT with the task's waitable set, and
// each event resumes the coroutine that waits for it. The task ends (EXIT)
// when its last coroutine (the exported function's and the ones it spawned)
// has finished; its result goes to the caller as soon as the function
// `co_return`s, so work may go on after the response (post-return work).
//
// `co_await` an imported async function, a read or a write of a stream or
// future, or another Task. Streams and futures are RAII handles: a reader
// or writer drops its end when it goes. A future's writer must have written
// its value before it goes (the component model traps otherwise). A
// coroutine destroyed while it waits (its task was cancelled) cancels the
// copy or subtask it waits for.
//
// No exceptions: a failed allocation traps.
#pragma once

#include <coroutine>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stratus_guest {

// The absent side of a `result` (`result<T>`, `result`).
#ifndef STRATUS_GUEST_UNIT
#define STRATUS_GUEST_UNIT
struct Unit {
  bool operator==(const Unit&) const = default;
};
#endif

namespace intrinsics {
extern "C" {
__attribute__((import_module("$root"), import_name("[waitable-set-new]"))) int32_t stratus_waitable_set_new();
__attribute__((import_module("$root"), import_name("[waitable-set-drop]"))) void stratus_waitable_set_drop(int32_t);
__attribute__((import_module("$root"), import_name("[waitable-join]"))) void stratus_waitable_join(int32_t, int32_t);
__attribute__((import_module("$root"), import_name("[context-get-0]"))) int32_t stratus_context_get();
__attribute__((import_module("$root"), import_name("[context-set-0]"))) void stratus_context_set(int32_t);
__attribute__((import_module("$root"), import_name("[subtask-drop]"))) void stratus_subtask_drop(int32_t);
__attribute__((import_module("$root"), import_name("[subtask-cancel]"))) int32_t stratus_subtask_cancel(int32_t);
__attribute__((import_module("[export]$root"), import_name("[task-cancel]"))) void stratus_task_cancel();
__attribute__((import_module("$root"), import_name("[error-context-new-utf8]")))
int32_t stratus_error_context_new(int32_t, int32_t);
__attribute__((import_module("$root"),
               import_name("[error-context-debug-message-utf8]"))) void stratus_error_context_debug_message(int32_t,
                                                                                                            int32_t);
__attribute__((import_module("$root"), import_name("[error-context-drop]"))) void stratus_error_context_drop(int32_t);
}
}  // namespace intrinsics

// CanonicalABI.md's codes.
namespace abi {
constexpr uint32_t kBlocked = 0xffffffffu;
enum Event : uint32_t {
  kNone = 0,
  kSubtask = 1,
  kStreamRead = 2,
  kStreamWrite = 3,
  kFutureRead = 4,
  kFutureWrite = 5,
  kTaskCancelled = 6
};
enum Copy : uint32_t { kCompleted = 0, kDropped = 1, kCancelled = 2 };
enum Subtask : uint32_t { kStarting = 0, kStarted = 1, kReturned = 2 };
enum Callback : int32_t { kExit = 0, kYield = 1, kWait = 2 };

inline int32_t i32_of(const void* p) { return static_cast<int32_t>(reinterpret_cast<uintptr_t>(p)); }
inline uint8_t* ptr_of(int32_t p) {
  return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(static_cast<uint32_t>(p)));
}
}  // namespace abi

// Memory blocks of one lowering (lists of non-trivial elements), freed
// together when it goes.
class Buffers {
 public:
  Buffers() = default;
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  ~Buffers() {
    for (void* p : blocks_) std::free(p);
  }
  void* alloc(size_t size, size_t align) {
    if (size == 0) return reinterpret_cast<void*>(align);
    void* p = std::aligned_alloc(align < sizeof(void*) ? sizeof(void*) : align, (size + align - 1) / align * align);
    if (p == nullptr) __builtin_trap();
    blocks_.push_back(p);
    return p;
  }

 private:
  std::vector<void*> blocks_;
};

// What the bindings define for each stream and future type of the world
// (specialisations for the element type): the canonical built-ins of that
// type, the element's size and alignment in linear memory, and its lifting
// (`load`, taking ownership of what the value points at) and lowering
// (`store`, pointing at the value's own strings; blocks from `Buffers`).
template <class T>
struct StreamOps;
template <class T>
struct FutureOps;

template <class T>
class Task;

namespace detail {

// One component-model task's coroutines and what they wait for.
class Scheduler {
 public:
  static Scheduler*& current() {
    static Scheduler* s = nullptr;
    return s;
  }

  // Waits for the event of `waitable`; `resume` is resumed with its payload
  // in `*payload`.
  void wait(uint32_t waitable, std::coroutine_handle<> resume, uint32_t* payload) {
    if (set_ == 0) set_ = static_cast<uint32_t>(intrinsics::stratus_waitable_set_new());
    intrinsics::stratus_waitable_join(static_cast<int32_t>(waitable), static_cast<int32_t>(set_));
    waiting_[waitable] = Waiter{resume, payload};
  }
  // Stops waiting for `waitable` (its waiter went before the event came).
  void forget(uint32_t waitable) {
    if (waiting_.erase(waitable) != 0) intrinsics::stratus_waitable_join(static_cast<int32_t>(waitable), 0);
  }

  // A coroutine that runs on its own (the task's root, or spawned): the
  // task lives until it finishes.
  void adopt(std::coroutine_handle<> h) { detached_.push_back(h); }
  void finished(std::coroutine_handle<> h) {
    for (auto& d : detached_)
      if (d == h) {
        d = detached_.back();
        detached_.pop_back();
        break;
      }
  }
  void returned() { returned_ = true; }

  // The code the export or callback returns: EXIT once every coroutine
  // has finished (the scheduler is gone then), else WAIT on the task's set.
  int32_t code() {
    if (detached_.empty()) {
      if (!returned_) __builtin_trap();  // an async export ended without its result
      if (set_ != 0) intrinsics::stratus_waitable_set_drop(static_cast<int32_t>(set_));
      intrinsics::stratus_context_set(0);
      current() = nullptr;
      delete this;
      return abi::kExit;
    }
    if (waiting_.empty()) __builtin_trap();  // coroutines wait, but for nothing the host can end
    current() = nullptr;
    return abi::kWait | static_cast<int32_t>(set_ << 4);
  }

  int32_t on_event(uint32_t event, uint32_t index, uint32_t payload) {
    current() = this;
    if (event == abi::kTaskCancelled) {
      // Before the result: the task ends as cancelled. The waiting
      // coroutines' frames go, cancelling what they wait for.
      while (!detached_.empty()) {
        auto h = detached_.back();
        detached_.pop_back();
        h.destroy();
      }
      if (!returned_) intrinsics::stratus_task_cancel();
      returned_ = true;
      return code();
    }
    auto it = waiting_.find(index);
    if (it != waiting_.end()) {
      Waiter w = it->second;
      waiting_.erase(it);
      intrinsics::stratus_waitable_join(static_cast<int32_t>(index), 0);
      *w.payload = payload;
      w.resume.resume();
    }
    return code();
  }

 private:
  struct Waiter {
    std::coroutine_handle<> resume;
    uint32_t* payload = nullptr;
  };
  uint32_t set_ = 0;
  std::unordered_map<uint32_t, Waiter> waiting_;
  std::vector<std::coroutine_handle<>> detached_;
  bool returned_ = false;
};

inline Scheduler& scheduler() {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) __builtin_trap();  // async work outside an async task
  return *s;
}

// Awaits the event of a waitable whose operation returned BLOCKED. If the
// awaiting coroutine is destroyed first, `abandon(waitable)` ends the
// operation (a synchronous cancel).
class Pending {
 public:
  Pending(uint32_t waitable, void (*abandon)(uint32_t)) : waitable_(waitable), abandon_(abandon) {}
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  ~Pending() {
    if (!waiting_) return;
    scheduler_->forget(waitable_);
    abandon_(waitable_);
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    scheduler_ = &scheduler();
    scheduler_->wait(waitable_, h, &payload_);
    waiting_ = true;
  }
  uint32_t await_resume() noexcept {
    waiting_ = false;
    return payload_;
  }

 private:
  uint32_t waitable_;
  void (*abandon_)(uint32_t);
  Scheduler* scheduler_ = nullptr;
  uint32_t payload_ = 0;
  bool waiting_ = false;
};

template <class T>
struct Promise;

// What a Task's promise has whatever its value.
//
// wasm32 has no tail calls, so symmetric transfer would grow the stack by
// a frame for every `co_await` that completes at once (a loop of reads the
// host answers immediately overflows it). Instead an awaited Task starts
// inside its awaiter's await_suspend, and if it finishes there, says so
// (`inline_done`) and the awaiter goes on without suspending; a Task that
// finishes later (resumed by an event) resumes its awaiter from there.
struct PromiseBase {
  std::coroutine_handle<> continuation;
  Scheduler* detached = nullptr;  // set when the coroutine runs on its own
  bool running_inline = false;    // started by its awaiter, which has not suspended yet
  bool inline_done = false;       // finished while running_inline

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct Final {
    bool await_ready() noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      PromiseBase& p = h.promise();
      if (p.running_inline) {
        p.inline_done = true;  // back to the awaiter's await_suspend, which goes on
        return;
      }
      if (p.continuation) {
        // This frame may be destroyed by the awaiter before resume() returns:
        // nothing of it is touched after.
        p.continuation.resume();
        return;
      }
      if (p.detached != nullptr) {
        p.detached->finished(h);
        h.destroy();
      }
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
  void unhandled_exception() { __builtin_trap(); }

  // Starts the coroutine `h` (whose promise this is) for `awaiting`:
  // whether `awaiting` must suspend (false: `h` has already finished).
  bool start(std::coroutine_handle<> h, std::coroutine_handle<> awaiting) {
    continuation = awaiting;
    running_inline = true;
    h.resume();
    running_inline = false;
    return !inline_done;
  }
};

}  // namespace detail

// An async computation: a lazily started coroutine whose value `co_await`
// gives. Move-only; destroying a Task destroys its coroutine.
template <class T>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::PromiseBase {
    std::optional<T> value;
    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
  };

  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept { return h_.promise().start(h_, awaiting); }
  T await_resume() { return std::move(*h_.promise().value); }

  // Gives up the coroutine (for spawn).
  std::coroutine_handle<promise_type> release() { return std::exchange(h_, {}); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : detail::PromiseBase {
    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_void() {}
  };

  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept { return h_.promise().start(h_, awaiting); }
  void await_resume() {}

  std::coroutine_handle<promise_type> release() { return std::exchange(h_, {}); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

// Runs `task` beside the current one, within the same component-model task
// (which ends only when it has finished too). Only from async code.
inline void spawn(Task<void> task) {
  auto h = task.release();
  detail::Scheduler& s = detail::scheduler();
  h.promise().detached = &s;
  s.adopt(h);
  h.resume();
}

namespace detail {

// The start of an exported async function's task: `root` is the coroutine
// that calls the guest's function and returns its result.
inline int32_t start_task(Task<void> root) {
  auto* s = new Scheduler();
  intrinsics::stratus_context_set(abi::i32_of(s));
  Scheduler::current() = s;
  spawn(std::move(root));
  return s->code();
}

// An event for the task the callback runs for.
inline int32_t on_callback(int32_t event, int32_t index, int32_t payload) {
  auto* s = reinterpret_cast<Scheduler*>(abi::ptr_of(intrinsics::stratus_context_get()));
  if (s == nullptr) __builtin_trap();
  return s->on_event(static_cast<uint32_t>(event), static_cast<uint32_t>(index), static_cast<uint32_t>(payload));
}

inline void cancel_subtask(uint32_t subtask) {
  uint32_t state = static_cast<uint32_t>(intrinsics::stratus_subtask_cancel(static_cast<int32_t>(subtask)));
  (void)state;
  intrinsics::stratus_subtask_drop(static_cast<int32_t>(subtask));
}

// Waits until the subtask an async-lowered call started (its packed
// status) has returned, and drops it.
inline Task<void> finish_subtask(uint32_t status) {
  uint32_t state = status & 0xf;
  uint32_t subtask = status >> 4;
  while (state != abi::kReturned) {
    Pending p(subtask, cancel_subtask);
    state = co_await p;
    if (state > abi::kReturned) __builtin_trap();  // cancelled, but we never asked
  }
  if (subtask != 0) intrinsics::stratus_subtask_drop(static_cast<int32_t>(subtask));
}

}  // namespace detail

// An `error-context` value: owns its handle.
class ErrorContext {
 public:
  explicit ErrorContext(std::string_view message)
      : handle_(static_cast<uint32_t>(intrinsics::stratus_error_context_new(abi::i32_of(message.data()),
                                                                            static_cast<int32_t>(message.size())))) {}
  static ErrorContext from_handle(uint32_t handle) { return ErrorContext(handle, 0); }
  ErrorContext(ErrorContext&& other) noexcept : handle_(std::exchange(other.handle_, 0)) {}
  ErrorContext& operator=(ErrorContext&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, 0);
    }
    return *this;
  }
  ErrorContext(const ErrorContext&) = delete;
  ErrorContext& operator=(const ErrorContext&) = delete;
  ~ErrorContext() { reset(); }

  // The host's debug message (may be empty).
  std::string debug_message() const {
    alignas(4) int32_t ret[2] = {0, 0};
    intrinsics::stratus_error_context_debug_message(static_cast<int32_t>(handle_), abi::i32_of(ret));
    std::string out(reinterpret_cast<const char*>(abi::ptr_of(ret[0])), static_cast<uint32_t>(ret[1]));
    if (ret[1] != 0) std::free(abi::ptr_of(ret[0]));
    return out;
  }
  uint32_t handle() const { return handle_; }
  uint32_t release() { return std::exchange(handle_, 0); }

 private:
  ErrorContext(uint32_t handle, int) : handle_(handle) {}
  void reset() {
    if (handle_ != 0) intrinsics::stratus_error_context_drop(static_cast<int32_t>(std::exchange(handle_, 0)));
  }
  uint32_t handle_ = 0;
};

// The readable end of a `stream<T>`.
template <class T>
class StreamReader {
 public:
  using Ops = StreamOps<T>;
  static StreamReader from_handle(uint32_t handle) { return StreamReader(handle); }
  StreamReader(StreamReader&& other) noexcept
      : handle_(std::exchange(other.handle_, 0)), done_(std::exchange(other.done_, true)) {}
  StreamReader& operator=(StreamReader&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, 0);
      done_ = std::exchange(other.done_, true);
    }
    return *this;
  }
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;
  ~StreamReader() { reset(); }

  // Reads up to `max` elements (at least one unless the writer has gone:
  // then none, and done() is true).
  Task<std::vector<T>> read(size_t max) {
    std::vector<T> out;
    if (done_ || max == 0) co_return out;
    if constexpr (Ops::kTrivial) {
      out.resize(max);
      size_t n = co_await copy(out.data(), max);
      out.resize(n);
    } else {
      void* buf = std::aligned_alloc(Ops::kAlign, (max * Ops::kSize + Ops::kAlign - 1) / Ops::kAlign * Ops::kAlign);
      if (buf == nullptr) __builtin_trap();
      size_t n = co_await copy(buf, max);
      out.reserve(n);
      for (size_t i = 0; i < n; ++i) out.push_back(Ops::load(static_cast<uint8_t*>(buf) + i * Ops::kSize));
      std::free(buf);
    }
    co_return out;
  }

  // Reads into `into` (numbers and chars only): the count read, 0 once the
  // writer has gone.
  Task<size_t> read_into(std::span<T> into) requires Ops::kTrivial {
    if (done_ || into.empty()) co_return 0;
    co_return co_await copy(into.data(), into.size());
  }

  // Everything until the writer goes.
  Task<std::vector<T>> read_all(size_t chunk = 65536) {
    std::vector<T> all;
    while (!done_) {
      std::vector<T> part = co_await read(chunk);
      for (auto& x : part) all.push_back(std::move(x));
    }
    co_return all;
  }

  bool done() const { return done_; }
  uint32_t handle() const { return handle_; }
  uint32_t release() { return std::exchange(handle_, 0); }

 private:
  explicit StreamReader(uint32_t handle) : handle_(handle) {}
  static void abandon(uint32_t h) { Ops::cancel_read(h); }
  Task<size_t> copy(void* into, size_t n) {
    uint32_t r = Ops::read(handle_, into, static_cast<uint32_t>(n));
    if (r == abi::kBlocked) {
      detail::Pending p(handle_, abandon);
      r = co_await p;
    }
    if ((r & 0xf) == abi::kDropped) done_ = true;
    co_return r >> 4;
  }
  void reset() {
    if (handle_ != 0) Ops::drop_readable(std::exchange(handle_, 0));
  }
  uint32_t handle_ = 0;
  bool done_ = false;
};

// The writable end of a `stream<T>`.
template <class T>
class StreamWriter {
 public:
  using Ops = StreamOps<T>;
  static StreamWriter from_handle(uint32_t handle) { return StreamWriter(handle); }
  StreamWriter(StreamWriter&& other) noexcept
      : handle_(std::exchange(other.handle_, 0)), closed_(std::exchange(other.closed_, true)) {}
  StreamWriter& operator=(StreamWriter&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, 0);
      closed_ = std::exchange(other.closed_, true);
    }
    return *this;
  }
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;
  ~StreamWriter() { reset(); }

  // Writes all of `data` unless the reader goes first: the count written.
  Task<size_t> write(std::span<const T> data) {
    size_t done = 0;
    if constexpr (Ops::kTrivial) {
      while (done < data.size() && !closed_) done += co_await copy(data.data() + done, data.size() - done);
    } else {
      Buffers blocks;
      auto* buf = static_cast<uint8_t*>(blocks.alloc(data.size() * Ops::kSize, Ops::kAlign));
      for (size_t i = 0; i < data.size(); ++i) Ops::store(data[i], buf + i * Ops::kSize, blocks);
      while (done < data.size() && !closed_) done += co_await copy(buf + done * Ops::kSize, data.size() - done);
    }
    co_return done;
  }
  // Bytes from text, for `stream<u8>`.
  Task<size_t> write(std::string_view text) requires std::is_same_v<T, uint8_t> {
    return write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }

  // Whether the reader has gone (writes end early then).
  bool closed() const { return closed_; }
  uint32_t handle() const { return handle_; }
  uint32_t release() { return std::exchange(handle_, 0); }

 private:
  explicit StreamWriter(uint32_t handle) : handle_(handle) {}
  static void abandon(uint32_t h) { Ops::cancel_write(h); }
  Task<size_t> copy(const void* from, size_t n) {
    uint32_t r = Ops::write(handle_, from, static_cast<uint32_t>(n));
    if (r == abi::kBlocked) {
      detail::Pending p(handle_, abandon);
      r = co_await p;
    }
    if ((r & 0xf) == abi::kDropped) closed_ = true;
    co_return r >> 4;
  }
  void reset() {
    if (handle_ != 0) Ops::drop_writable(std::exchange(handle_, 0));
  }
  uint32_t handle_ = 0;
  bool closed_ = false;
};

// A new stream: its writer and its reader.
template <class T>
std::pair<StreamWriter<T>, StreamReader<T>> make_stream() {
  uint64_t ends = StreamOps<T>::make();
  return {StreamWriter<T>::from_handle(static_cast<uint32_t>(ends >> 32)),
          StreamReader<T>::from_handle(static_cast<uint32_t>(ends))};
}

// The readable end of a `future<T>`.
template <class T>
class FutureReader {
 public:
  using Ops = FutureOps<T>;
  static FutureReader from_handle(uint32_t handle) { return FutureReader(handle); }
  FutureReader(FutureReader&& other) noexcept : handle_(std::exchange(other.handle_, 0)) {}
  FutureReader& operator=(FutureReader&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, 0);
    }
    return *this;
  }
  FutureReader(const FutureReader&) = delete;
  FutureReader& operator=(const FutureReader&) = delete;
  ~FutureReader() { reset(); }

  // The value, once written (nullopt if the writer went without one, or
  // it was read before).
  Task<std::optional<T>> read() {
    if (handle_ == 0 || read_) co_return std::nullopt;
    alignas(Ops::kAlign) uint8_t buf[Ops::kSize];
    uint32_t r = Ops::read(handle_, buf);
    if (r == abi::kBlocked) {
      detail::Pending p(handle_, abandon);
      r = co_await p;
    }
    read_ = true;
    if ((r & 0xf) != abi::kCompleted) co_return std::nullopt;
    co_return Ops::load(buf);
  }

  uint32_t handle() const { return handle_; }
  uint32_t release() { return std::exchange(handle_, 0); }

 private:
  explicit FutureReader(uint32_t handle) : handle_(handle) {}
  static void abandon(uint32_t h) { Ops::cancel_read(h); }
  void reset() {
    if (handle_ != 0) Ops::drop_readable(std::exchange(handle_, 0));
  }
  uint32_t handle_ = 0;
  bool read_ = false;
};

// The writable end of a `future<T>`: write its value before it goes.
template <class T>
class FutureWriter {
 public:
  using Ops = FutureOps<T>;
  static FutureWriter from_handle(uint32_t handle) { return FutureWriter(handle); }
  FutureWriter(FutureWriter&& other) noexcept : handle_(std::exchange(other.handle_, 0)) {}
  FutureWriter& operator=(FutureWriter&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, 0);
    }
    return *this;
  }
  FutureWriter(const FutureWriter&) = delete;
  FutureWriter& operator=(const FutureWriter&) = delete;
  ~FutureWriter() { reset(); }

  // Writes the value: false if the reader went first (the value is
  // dropped then).
  Task<bool> write(T value) {
    if (handle_ == 0) co_return false;
    alignas(Ops::kAlign) uint8_t buf[Ops::kSize];
    Buffers blocks;
    Ops::store(value, buf, blocks);
    uint32_t r = Ops::write(handle_, buf);
    if (r == abi::kBlocked) {
      detail::Pending p(handle_, abandon);
      r = co_await p;
    }
    co_return (r & 0xf) == abi::kCompleted;
  }

  uint32_t handle() const { return handle_; }
  uint32_t release() { return std::exchange(handle_, 0); }

 private:
  explicit FutureWriter(uint32_t handle) : handle_(handle) {}
  static void abandon(uint32_t h) { Ops::cancel_write(h); }
  void reset() {
    if (handle_ != 0) Ops::drop_writable(std::exchange(handle_, 0));
  }
  uint32_t handle_ = 0;
};

// A new future: its writer and its reader.
template <class T>
std::pair<FutureWriter<T>, FutureReader<T>> make_future() {
  uint64_t ends = FutureOps<T>::make();
  return {FutureWriter<T>::from_handle(static_cast<uint32_t>(ends >> 32)),
          FutureReader<T>::from_handle(static_cast<uint32_t>(ends))};
}

}  // namespace stratus_guest

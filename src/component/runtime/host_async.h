// The host's side of the async Component Model: host functions that
// complete later (HostCall), and the host's ends of streams and futures
// (HostReadEnd, HostWriteEnd). Everything here runs on the store's thread:
// a host working on another thread posts its completion through the
// store's reactor (reactor.h), which the call's HostCall gives.
//
//   linker.define_func("sleep", type, AsyncHostFuncCallback(
//       [](CallContext&, std::vector<Val> args, std::shared_ptr<HostCall> call) {
//         call->reactor().at(Clock::now() + ms(args[0]), [call] { call->resolve(std::nullopt); });
//       }));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "component/runtime/reactor.h"
#include "component/types.h"
#include "component/val.h"
#include "engine/engine.h"
#include "support/result.h"

namespace stratus::component {

class InstanceState;
class SharedChannel;
struct Resolution;

// How a copy on a stream or future ended (CanonicalABI.md CopyResult).
enum class CopyResult : uint32_t { Completed = 0, Dropped = 1, Cancelled = 2 };

// One call of an async host function, from its start to its result. The
// host keeps it as long as the call is under way (it holds the store's
// loop open meanwhile) and ends it once: with resolve, with fail (a trap),
// or, after the caller cancelled, with resolve_cancelled. A HostCall
// dropped without an end traps the caller's store, naming the function.
class HostCall {
 public:
  HostCall(std::shared_ptr<const std::string> name, FuncTypePtr type, std::weak_ptr<InstanceState> caller,
           Reactor& reactor, std::function<void(Resolution)> on_resolve);
  ~HostCall();
  HostCall(const HostCall&) = delete;
  HostCall& operator=(const HostCall&) = delete;

  // The result (nullopt for a function without one), checked against the
  // function's type: a value of the wrong type traps the caller.
  void resolve(std::optional<Val> result);
  void fail(engine::Trap trap);
  // The caller cancelled the call (subtask.cancel): `f` runs then. The call
  // still ends through resolve, fail or resolve_cancelled.
  void on_cancel(std::function<void()> f);
  void resolve_cancelled();
  bool cancel_requested() const { return cancel_requested_; }
  bool done() const { return done_; }
  // Whether the caller is a synchronous call on its host's stack in a store
  // with no other guest thread (a WASI 0.2 component's call, say): nothing
  // else of the store could run while it waits, so a host may do blocking
  // work on the store's thread at once rather than hand it to another
  // thread and back. False for a task on a fiber (an async task) and
  // whenever other threads of the store are alive.
  bool caller_waits_alone() const;
  Reactor& reactor() const { return reactor_; }
  const std::string& name() const { return *name_; }

  // The runtime's: the caller asked to cancel.
  void request_cancel();

 private:
  void finish(Resolution r);

  std::shared_ptr<const std::string> name_;
  FuncTypePtr type_;
  std::weak_ptr<InstanceState> caller_;
  Reactor& reactor_;
  Reactor::Hold hold_;
  std::function<void(Resolution)> on_resolve_;
  std::function<void()> on_cancel_;
  bool cancel_requested_ = false;
  bool done_ = false;
};

// Elements moving between the host and a stream or future: for elements
// that are numbers (integers and floats), their little-endian bytes
// (`bytes`, elem_size each); for other types, values; for a stream
// without an element type, only a count.
struct HostElements {
  std::vector<uint8_t> bytes;
  std::vector<Val> values;
  uint32_t count = 0;

  static HostElements of_bytes(std::span<const uint8_t> b, uint32_t elem_size = 1) {
    return HostElements{{b.begin(), b.end()}, {}, static_cast<uint32_t>(b.size() / elem_size)};
  }
  static HostElements of_values(std::vector<Val> v) {
    auto n = static_cast<uint32_t>(v.size());
    return HostElements{{}, std::move(v), n};
  }
  static HostElements of_count(uint32_t n) { return HostElements{{}, {}, n}; }
};

// Whether elements of `t` travel as bytes (numbers) rather than values.
bool elements_are_bytes(const std::optional<ValType>& t);

// The host's readable end of a stream or future: one a guest handed the
// host (a Val of kind Stream or Future, taken once), or the one
// HostWriteEnd::make keeps when the host both writes and reads.
class HostReadEnd {
 public:
  HostReadEnd() = default;
  static Result<HostReadEnd> take(const Val& v);
  bool valid() const { return state_ != nullptr; }
  bool is_stream() const;
  const std::optional<ValType>& element() const;

  using OnRead = std::function<void(CopyResult, HostElements)>;
  // Reads up to `max` elements (a future: its one value). `done` runs when
  // the copy ends (on the store's thread, maybe before read returns), with
  // what was read: COMPLETED with at least one element when a writer
  // wrote (or zero for a zero-length read), DROPPED once the writer is gone,
  // CANCELLED after cancel. One read at a time.
  Result<void> read(uint32_t max, OnRead done);
  // Ends a read under way with CANCELLED (and what it had received).
  void cancel();
  // No more reads: the writer hears DROPPED. Cancels a read under way.
  void drop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// The host's writable end of a stream or future it made.
class HostWriteEnd {
 public:
  HostWriteEnd() = default;
  // A new stream (or future) of `element` (nullopt: no element type): the
  // host writes to the end it gets; the Val (the readable end) goes to a
  // guest as an argument or result, or to HostReadEnd::take.
  static std::pair<HostWriteEnd, Val> make_stream(std::optional<ValType> element);
  static std::pair<HostWriteEnd, Val> make_future(std::optional<ValType> element);
  // The same, typed by the first guest the readable end is lowered into
  // (until then a write's elements are checked only when they are copied).
  static std::pair<HostWriteEnd, Val> make_stream();
  static std::pair<HostWriteEnd, Val> make_future();
  bool valid() const { return state_ != nullptr; }

  using OnWrite = std::function<void(CopyResult, uint32_t written)>;
  // Offers `elements` to the reader (a future: exactly one). `done` runs
  // when the copy ends, with how many the reader took: COMPLETED once a
  // reader took some (or at once for zero), DROPPED when the reader is
  // gone, CANCELLED after cancel. One write at a time.
  Result<void> write(HostElements elements, OnWrite done);
  void cancel();
  // No more writes: the reader hears DROPPED (a future's reader too).
  void drop();

 private:
  static std::pair<HostWriteEnd, Val> make(bool stream, std::optional<ValType> element, bool deferred);
  struct State;
  std::shared_ptr<State> state_;
};

// An error-context value the host makes (for a guest) or reads.
Val make_error_context(std::string debug_message);
// The debug message of an error-context value; nullopt for another kind.
std::optional<std::string> error_context_message(const Val& v);

}  // namespace stratus::component

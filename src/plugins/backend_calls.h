// Internal to plugins/: host calls whose backend work blocks (a database
// query, a file, a broker's reply) run that work on a BackendPool thread
// and answer through the caller's store reactor, so that an async task
// waits for its answer while its store runs the other tasks. A caller alone
// in its store on its host's stack (a WASI 0.2 component) is served on its
// own thread at once, as before: nothing else could run meanwhile, and the
// hop to another thread and back would only cost.
//
// Ownership: a pool thread holds only the work (which owns what it uses:
// the backend, copies of the arguments) and its result. The call itself
// (its Reply) and the step that turns the result into the answer stay with
// the instance's BackendCalls, on the store's thread: when the instance's
// plugin state goes first, a late result finds nothing and is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "observe/current_span.h"
#include "observe/metrics.h"
#include "plugins/dispatcher.h"
#include "wit/host_support.h"

namespace stratus::plugins {

// The threads backend work runs on, shared by every instance of a host.
// Two bounded sets of them, so that calls that wait on other parties
// cannot starve quick I/O: kIo for a backend's I/O (keyvalue, blobstore,
// publishing), kWait for a call that waits on someone else (a request's
// reply, which may come from a handler that itself needs kIo).
class BackendPool {
 public:
  enum class Lane { kIo, kWait };
  static constexpr size_t kIoThreads = 8;
  static constexpr size_t kWaitThreads = 32;

  // `call_durations` (labels: plugin), when set, gets the time each call's
  // backend work took.
  explicit BackendPool(observe::Family<observe::Histogram>* call_durations = nullptr)
      : io_(kIoThreads), wait_(kWaitThreads), call_durations_(call_durations) {}
  void post(Lane lane, std::function<void()> work) { (lane == Lane::kIo ? io_ : wait_).post(std::move(work)); }
  // `work` timed into call_durations under `plugin`, or `work` itself without them.
  template <class R>
  std::function<R()> timed(const char* plugin, std::function<R()> work) const {
    if (call_durations_ == nullptr) return work;
    return [work = std::move(work), child = &call_durations_->with({plugin})] {
      auto began = std::chrono::steady_clock::now();
      R result = work();
      child->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
      return result;
    };
  }

 private:
  Dispatcher io_;
  Dispatcher wait_;
  observe::Family<observe::Histogram>* call_durations_;
};

// The client span of a plugin call, "OPERATION TARGET" under the span the
// caller works under; inactive, with nothing made, without one. `fill`
// gives its attributes.
template <class Fill>
observe::Span client_span(std::string_view operation, std::string_view target, Fill fill) {
  if (observe::current_scope() == nullptr) [[likely]]
    return {};
  std::string name(operation);
  if (!target.empty()) name.append(" ").append(target);
  auto span = observe::Span::child(std::move(name), observe::SpanKind::kClient);
  if (span.active()) fill(span.attributes());
  return span;
}

// One instance's calls under way. The store's thread only.
class BackendCalls {
 public:
  explicit BackendCalls(std::shared_ptr<BackendPool> pool) : pool_(std::move(pool)) {}

  // Answers `reply` with finish(work()): `work` runs on a pool thread (or
  // here, for a caller alone) and must own everything it touches; `finish`
  // runs on the store's thread and may use the instance's handles.
  // `plugin` ("wasi:keyvalue") labels the call's duration. `span`, the
  // call's client span when the caller works under a trace, ends when the
  // call is answered (an error when the answer is a trap or an error).
  template <class T, class R>
  void run(const char* plugin, BackendPool::Lane lane, const wit::Reply<T>& reply, std::function<R()> work,
           std::function<wit::HostResult<T>(R)> finish, observe::Span span = {}) {
    work = pool_->timed(plugin, std::move(work));
    if (reply.call()->caller_waits_alone()) {
      answer(reply, finish(work()), span);
      return;
    }
    auto result = std::make_shared<std::optional<R>>();
    uint64_t id = in_flight_->next++;
    // std::function copies: the span is shared (made only when it is active).
    std::shared_ptr<observe::Span> shared_span;
    if (span.active()) shared_span = std::make_shared<observe::Span>(std::move(span));
    in_flight_->calls.emplace(id, [reply, finish = std::move(finish), result, shared_span] {
      observe::Span none;
      answer(reply, finish(std::move(**result)), shared_span ? *shared_span : none);
    });
    std::weak_ptr<InFlight> weak = in_flight_;
    pool_->post(lane, [work = std::move(work), result, poster = reply.reactor().poster(), weak, id] {
      result->emplace(work());
      // The post orders the result's write before its read on the store's
      // thread; after the store is gone, it runs nothing.
      poster.post([weak, id] {
        auto in_flight = weak.lock();
        if (!in_flight) return;
        auto it = in_flight->calls.find(id);
        if (it == in_flight->calls.end()) return;
        auto complete = std::move(it->second);
        in_flight->calls.erase(it);
        complete();
      });
    });
  }

  // The same when the work's result is the answer.
  template <class T>
  void run(const char* plugin, BackendPool::Lane lane, const wit::Reply<T>& reply, std::function<T()> work,
           observe::Span span = {}) {
    run<T, T>(
        plugin, lane, reply, std::move(work), [](T value) { return wit::HostResult<T>(std::move(value)); },
        std::move(span));
  }

 private:
  template <class T>
  static void answer(const wit::Reply<T>& reply, wit::HostResult<T> result, observe::Span& span) {
    if (result.trapped()) {
      span.fail(result.trap().message, "trap");
      span.end();
      reply.trap(std::move(result.trap()));
      return;
    }
    if constexpr (requires { result.value().is_ok(); }) {
      if (!result.value().is_ok()) span.fail("the call answered an error", "_OTHER");
    }
    span.end();
    reply(result.value());
  }

  struct InFlight {
    std::map<uint64_t, std::function<void()>> calls;
    uint64_t next = 1;
  };
  std::shared_ptr<BackendPool> pool_;
  std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>();
};

}  // namespace stratus::plugins

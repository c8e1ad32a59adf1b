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
#include <utility>

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

// One instance's calls under way. The store's thread only.
class BackendCalls {
 public:
  explicit BackendCalls(std::shared_ptr<BackendPool> pool) : pool_(std::move(pool)) {}

  // Answers `reply` with finish(work()): `work` runs on a pool thread (or
  // here, for a caller alone) and must own everything it touches; `finish`
  // runs on the store's thread and may use the instance's handles.
  // `plugin` ("wasi:keyvalue") labels the call's duration.
  template <class T, class R>
  void run(const char* plugin, BackendPool::Lane lane, const wit::Reply<T>& reply, std::function<R()> work,
           std::function<wit::HostResult<T>(R)> finish) {
    work = pool_->timed(plugin, std::move(work));
    if (reply.call()->caller_waits_alone()) {
      answer(reply, finish(work()));
      return;
    }
    auto result = std::make_shared<std::optional<R>>();
    uint64_t id = in_flight_->next++;
    in_flight_->calls.emplace(
        id, [reply, finish = std::move(finish), result] { answer(reply, finish(std::move(**result))); });
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
  void run(const char* plugin, BackendPool::Lane lane, const wit::Reply<T>& reply, std::function<T()> work) {
    run<T, T>(plugin, lane, reply, std::move(work), [](T value) { return wit::HostResult<T>(std::move(value)); });
  }

 private:
  template <class T>
  static void answer(const wit::Reply<T>& reply, wit::HostResult<T> result) {
    if (result.trapped()) {
      reply.trap(std::move(result.trap()));
    } else {
      reply(result.value());
    }
  }

  struct InFlight {
    std::map<uint64_t, std::function<void()>> calls;
    uint64_t next = 1;
  };
  std::shared_ptr<BackendPool> pool_;
  std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>();
};

}  // namespace stratus::plugins

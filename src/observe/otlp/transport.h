// What every OTLP/HTTP exporter of stratus shares: the POST of a payload
// to a collector with retries and back-off on the answers the OTLP
// specification calls retryable (429, 502, 503, 504, no connection), a
// failing collector said once until it works again; and BatchQueue, the
// bounded queue and thread that send items (spans, log records) in
// batches, never making the caller wait.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "observe/otlp/config.h"
#include "support/result.h"

namespace stratus::observe {

// Lowers the calling thread's scheduling priority (nice +10): an exporter's
// thread is background work, and on a saturated host the requests go first
// (what it cannot keep up with is dropped and counted, as for a slow
// collector).
void lower_thread_priority();

class OtlpTransport {
 public:
  // `noun` names what the payloads hold, for the log ("spans"). Errors: a
  // URL that is not http://HOST[:PORT][/PATH].
  static Result<OtlpTransport> make(const std::string& noun, OtlpSignal signal, std::chrono::milliseconds timeout,
                                    int attempts);

  // POSTs `body` (encoded as signal().encoding says) holding `count`
  // items (0: not counted, as the metrics are not); whether the collector
  // took it. `last`: one attempt only (the
  // process is stopping). One thread at a time.
  bool send(const std::string& body, size_t count, bool last);

  const OtlpSignal& signal() const { return signal_; }
  // Where the transport's own lines go (a collector that fails); stderr by default.
  void set_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }

 private:
  OtlpTransport() = default;
  std::string noun_;
  OtlpSignal signal_;
  HttpUrl url_;
  std::chrono::milliseconds timeout_{10'000};
  int attempts_ = 4;
  bool failing_ = false;  // the last payload failed (logged once until one succeeds)
  std::function<void(const std::string&)> log_;
};

// Items queued by any thread (bounded: past `max_queue` they are dropped
// and counted, never waited for) and sent by a thread of the queue's own,
// every `interval` or once a batch is full, through `send` (which encodes
// and posts a batch, saying whether the collector took it).
template <typename Item>
class BatchQueue {
 public:
  using Send = std::function<bool(const std::vector<Item>& batch, bool last)>;
  BatchQueue(size_t max_queue, size_t max_batch, std::chrono::milliseconds interval, Send send)
      : max_queue_(max_queue), max_batch_(max_batch), interval_(interval), send_(std::move(send)) {
    thread_ = std::thread([this] { run(); });
  }
  // Sends what is queued (one attempt), then stops.
  ~BatchQueue() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  void submit(Item item) {
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= max_queue_) {
        dropped_++;
        return;
      }
      queue_.push_back(std::move(item));
      if (queue_.size() < max_batch_) return;
    }
    wake_.notify_one();
  }
  uint64_t exported() const { return exported_.load(); }
  uint64_t dropped() const { return dropped_.load(); }  // queue full, or a batch given up on

 private:
  void run() {
    lower_thread_priority();
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait_for(lock, interval_, [this] { return stopping_ || queue_.size() >= max_batch_; });
      bool last = stopping_;
      if (last && queue_.empty()) return;
      // The queue is taken whole (O(1) under the lock a request takes to
      // submit), then sent in batches outside it.
      std::deque<Item> taken;
      taken.swap(queue_);
      lock.unlock();
      while (!taken.empty()) {
        std::vector<Item> batch;
        while (!taken.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(taken.front()));
          taken.pop_front();
        }
        if (send_(batch, last))
          exported_ += batch.size();
        else
          dropped_ += batch.size();
      }
      lock.lock();
    }
  }

  const size_t max_queue_, max_batch_;
  const std::chrono::milliseconds interval_;
  Send send_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> exported_{0}, dropped_{0};
  std::thread thread_;  // last: it starts once the rest is made
};

}  // namespace stratus::observe

// Internal to plugins/: runs posted tasks on a pool of threads made on
// demand (up to a cap) and kept for the next task, so that a message
// handler that publishes or requests does not wait on its own delivery.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stratus::plugins {

class Dispatcher {
 public:
  explicit Dispatcher(size_t max_threads = 64) : max_threads_(max_threads) {}
  ~Dispatcher() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    work_.notify_all();
    for (auto& t : threads_) t.join();
  }
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void post(std::function<void()> task) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
    if (idle_ < queue_.size() && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
    work_.notify_one();
  }

 private:
  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      work_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) return;  // closing, nothing left
      auto task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  size_t max_threads_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool closing_ = false;
};

// Counts a subscription's deliveries under way, so that ending it can wait
// for them.
class InFlight {
 public:
  void begin() {
    std::lock_guard lock(mu_);
    ++n_;
  }
  void end() {
    std::lock_guard lock(mu_);
    if (--n_ == 0) done_.notify_all();
  }
  void wait_idle() {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return n_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  size_t n_ = 0;
};

}  // namespace stratus::plugins

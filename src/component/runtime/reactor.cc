#include "component/runtime/reactor.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <deque>
#include <mutex>

namespace stratus::component {

// What a Reactor shares with the threads that post to it.
struct Reactor::Poster::Shared {
  Shared() : wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Shared() {
    if (wake_fd >= 0) ::close(wake_fd);
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  // Wakes the loop if it sleeps (or is about to: it rechecks after saying so).
  void wake() const {
    if (wake_fd < 0 || !sleeping.load(std::memory_order_seq_cst)) return;
    uint64_t one = 1;
    // A full counter still wakes the loop, so a failed write loses nothing.
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }
  void drain_wake() const {
    if (wake_fd < 0) return;
    uint64_t n = 0;
    [[maybe_unused]] auto r = ::read(wake_fd, &n, sizeof n);
  }

  const int wake_fd;
  std::mutex mu;
  std::deque<std::function<void()>> posted;  // (mu)
  std::atomic<size_t> num_posted{0};
  std::atomic<int> holds{0};
  std::atomic<bool> alive{true};
  std::atomic<bool> sleeping{false};
};

void Reactor::Poster::post(std::function<void()> f) const {
  if (!shared_ || !shared_->alive.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(shared_->mu);
    shared_->posted.push_back(std::move(f));
    shared_->num_posted.fetch_add(1, std::memory_order_seq_cst);
  }
  shared_->wake();
}

Reactor::Hold::~Hold() { release(); }

Reactor::Hold& Reactor::Hold::operator=(Hold&& o) noexcept {
  if (this != &o) {
    release();
    shared_ = std::move(o.shared_);
  }
  return *this;
}

void Reactor::Hold::release() {
  if (!shared_) return;
  shared_->holds.fetch_sub(1, std::memory_order_seq_cst);
  // The loop may be waiting only for this hold: let it look again.
  shared_->wake();
  shared_.reset();
}

Reactor::Reactor() : shared_(std::make_shared<Poster::Shared>()) {}

Reactor::~Reactor() {
  shared_->alive.store(false, std::memory_order_release);
  std::lock_guard lock(shared_->mu);
  shared_->posted.clear();
}

Reactor::Poster Reactor::poster() const {
  Poster p;
  p.shared_ = shared_;
  return p;
}

Reactor::Hold Reactor::hold() {
  Hold h;
  shared_->holds.fetch_add(1, std::memory_order_acq_rel);
  h.shared_ = shared_;
  return h;
}

uint64_t Reactor::at(Clock::time_point when, std::function<void()> f) {
  uint64_t id = next_id_++;
  timers_.emplace(when, Timer{id, std::move(f)});
  return id;
}

bool Reactor::cancel_timer(uint64_t id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.id == id) {
      timers_.erase(it);
      return true;
    }
  }
  return false;
}

uint64_t Reactor::watch(int fd, short events, std::function<void(short)> f) {
  uint64_t id = next_id_++;
  watches_.push_back(Watch{id, fd, events, std::move(f)});
  return id;
}

bool Reactor::unwatch(uint64_t id) {
  auto it = std::find_if(watches_.begin(), watches_.end(), [id](const Watch& w) { return w.id == id; });
  if (it == watches_.end()) return false;
  watches_.erase(it);
  return true;
}

bool Reactor::busy() const {
  return shared_->num_posted.load(std::memory_order_acquire) != 0 ||
         shared_->holds.load(std::memory_order_acquire) != 0 || !timers_.empty() || !watches_.empty();
}

bool Reactor::run_posted() {
  if (shared_->num_posted.load(std::memory_order_acquire) == 0) return false;
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(shared_->mu);
    batch.swap(shared_->posted);
    shared_->num_posted.store(0, std::memory_order_release);
  }
  for (auto& f : batch) f();
  return !batch.empty();
}

bool Reactor::run_timers() {
  if (timers_.empty()) return false;
  auto now = Clock::now();
  std::vector<std::function<void()>> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    due.push_back(std::move(timers_.begin()->second.f));
    timers_.erase(timers_.begin());
  }
  // Run after taking them all: a timer may set or cancel others.
  for (auto& f : due) f();
  return !due.empty();
}

bool Reactor::poll_watches(int timeout_ms) {
  std::vector<pollfd> fds;
  fds.reserve(watches_.size() + 1);
  fds.push_back(pollfd{shared_->wake_fd, POLLIN, 0});
  std::vector<uint64_t> ids;
  ids.reserve(watches_.size());
  for (const auto& w : watches_) {
    fds.push_back(pollfd{w.fd, w.events, 0});
    ids.push_back(w.id);
  }
  int n = ::poll(fds.data(), fds.size(), timeout_ms);
  if (n <= 0) return false;
  if (fds[0].revents != 0) shared_->drain_wake();
  bool ran = false;
  for (size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    // One-shot: taken off before it runs (it may watch again). An earlier
    // callback may have unwatched it.
    auto it = std::find_if(watches_.begin(), watches_.end(), [&](const Watch& w) { return w.id == ids[i - 1]; });
    if (it == watches_.end()) continue;
    auto f = std::move(it->f);
    watches_.erase(it);
    f(fds[i].revents);
    ran = true;
  }
  return ran;
}

bool Reactor::run(bool wait, std::optional<Clock::time_point> until) {
  bool ran = run_posted();
  ran = run_timers() || ran;
  if (!watches_.empty()) ran = poll_watches(0) || ran;
  if (ran || !wait || !busy()) return ran;
  // Nothing was due: sleep until a post, a descriptor, the next timer or `until`.
  std::optional<Clock::time_point> wake = until;
  if (!timers_.empty() && (!wake || timers_.begin()->first < *wake)) wake = timers_.begin()->first;
  int timeout_ms = -1;
  if (wake) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake - Clock::now()).count();
    timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
  }
  // Say it sleeps, then look once more: a post or a released hold after
  // this point writes to the wake descriptor.
  shared_->sleeping.store(true, std::memory_order_seq_cst);
  if (shared_->num_posted.load(std::memory_order_seq_cst) == 0 && busy()) ran = poll_watches(timeout_ms);
  shared_->sleeping.store(false, std::memory_order_seq_cst);
  ran = run_posted() || ran;
  ran = run_timers() || ran;
  return ran;
}

}  // namespace stratus::component

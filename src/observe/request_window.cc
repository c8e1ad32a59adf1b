#include "observe/request_window.h"

#include <chrono>
#include <limits>

namespace stratus::observe {

int64_t RequestWindow::now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void RequestWindow::record(double seconds, int64_t now_s) {
  Slot& slot = slots_[static_cast<size_t>(now_s % kSeconds)];
  int64_t was = slot.second.load(std::memory_order_acquire);
  if (was != now_s) {
    // The first request of a new second claims the slot and empties it; a
    // request racing with the claim may land in the old counts or be lost,
    // which a status page's figures can bear.
    if (slot.second.compare_exchange_strong(was, now_s, std::memory_order_acq_rel)) {
      slot.count.store(0, std::memory_order_relaxed);
      for (auto& b : slot.buckets) b.store(0, std::memory_order_relaxed);
    }
  }
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  slot.buckets[i].fetch_add(1, std::memory_order_relaxed);
  slot.count.fetch_add(1, std::memory_order_relaxed);
}

RequestWindow::Summary RequestWindow::summary(int64_t now_s) const {
  std::array<uint64_t, kBounds.size() + 1> buckets{};
  Summary s;
  for (const auto& slot : slots_) {
    int64_t second = slot.second.load(std::memory_order_acquire);
    if (second < 0 || second > now_s || now_s - second >= kSeconds) continue;
    s.requests += slot.count.load(std::memory_order_relaxed);
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += slot.buckets[i].load(std::memory_order_relaxed);
  }
  s.requests_per_second = static_cast<double>(s.requests) / kSeconds;
  uint64_t total = 0;
  for (auto b : buckets) total += b;
  if (total == 0) return s;
  // The smallest bound under which at least 99% of the requests fall.
  uint64_t want = total - total / 100;
  uint64_t seen = 0;
  s.p99_seconds = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < kBounds.size(); ++i) {
    seen += buckets[i];
    if (seen >= want) {
      s.p99_seconds = kBounds[i];
      break;
    }
  }
  return s;
}

}  // namespace stratus::observe

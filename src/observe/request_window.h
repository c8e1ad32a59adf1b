// Requests over the last minute, for the status page: per second slots of
// a count and a latency histogram, so req/s and p99 come out of 60 slots
// without keeping each request. Recording is a few relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace stratus::observe {

class RequestWindow {
 public:
  static constexpr int kSeconds = 60;
  // Upper bounds of the latency buckets (seconds), roughly x2 apart; the
  // p99 read from them is the bound of the bucket it falls in.
  static constexpr std::array<double, 18> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};

  // A request that took `seconds`, ending at `now_s` (seconds of a steady clock).
  void record(double seconds, int64_t now_s);
  struct Summary {
    double requests_per_second = 0;  // over the last kSeconds
    double p99_seconds = 0;          // 0 without requests; +Inf past the last bound
    uint64_t requests = 0;
  };
  // The kSeconds up to and with `now_s`.
  Summary summary(int64_t now_s) const;

  // Seconds of the steady clock (what record and summary take).
  static int64_t now_seconds();

 private:
  struct Slot {
    std::atomic<int64_t> second{-1};
    std::atomic<uint64_t> count{0};
    std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets{};
  };
  std::array<Slot, kSeconds> slots_{};
};

}  // namespace stratus::observe

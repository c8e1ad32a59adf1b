// wasi:random's hosts, shared by WASI 0.2 and 0.3 (their random and
// insecure interfaces have the same functions): templates over the
// generated Host class of either version.
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "wit/host_support.h"

namespace stratus::wasi::p2 {

engine::Trap guest_error(const std::string& message);  // hosts.h

// A guest asking for more than this in one call gets a trap rather than a
// host allocation of its choosing.
constexpr uint64_t kMaxRandomBytes = 64 * 1024 * 1024;

inline bool fill_secure(uint8_t* out, size_t len) {
  while (len > 0) {
    ssize_t n = ::getrandom(out, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    out += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

template <class Base>
class RandomHost final : public Base {
 public:
  wit::HostResult<std::vector<uint8_t>> get_random_bytes(const uint64_t& len) override {
    if (len > kMaxRandomBytes) return guest_error("get-random-bytes: " + std::to_string(len) + " bytes is too many");
    std::vector<uint8_t> out(static_cast<size_t>(len));
    if (!fill_secure(out.data(), out.size())) return engine::Trap{engine::TrapKind::HostError, "getrandom failed"};
    return out;
  }
  wit::HostResult<uint64_t> get_random_u64() override {
    uint64_t v = 0;
    if (!fill_secure(reinterpret_cast<uint8_t*>(&v), sizeof v))
      return engine::Trap{engine::TrapKind::HostError, "getrandom failed"};
    return v;
  }
};

// Fast and unpredictable enough for hash seeds; seeded from the CSPRNG.
template <class Base>
class InsecureHost final : public Base {
 public:
  InsecureHost() {
    uint64_t seed = 0;
    fill_secure(reinterpret_cast<uint8_t*>(&seed), sizeof seed);
    rng_.seed(seed);
  }
  wit::HostResult<std::vector<uint8_t>> get_insecure_random_bytes(const uint64_t& len) override {
    if (len > kMaxRandomBytes) return guest_error("get-insecure-random-bytes: too many bytes");
    std::vector<uint8_t> out(static_cast<size_t>(len));
    for (size_t i = 0; i < out.size(); i += 8) {
      uint64_t v = rng_();
      for (size_t k = 0; k < 8 && i + k < out.size(); ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
    }
    return out;
  }
  wit::HostResult<uint64_t> get_insecure_random_u64() override { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

}  // namespace stratus::wasi::p2

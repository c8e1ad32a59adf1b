// wasi:random/random (the OS's CSPRNG), insecure and insecure-seed.
#include <sys/random.h>

#include <cerrno>
#include <random>

#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

using wit::HostResult;

// A guest asking for more than this in one call gets a trap rather than a
// host allocation of its choosing.
constexpr uint64_t kMaxRandomBytes = 64 * 1024 * 1024;

bool fill_secure(uint8_t* out, size_t len) {
  while (len > 0) {
    ssize_t n = ::getrandom(out, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    out += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

class RandomHost final : public ::wasi::random::random::Host {
 public:
  HostResult<std::vector<uint8_t>> get_random_bytes(const uint64_t& len) override {
    if (len > kMaxRandomBytes) return guest_error("get-random-bytes: " + std::to_string(len) + " bytes is too many");
    std::vector<uint8_t> out(static_cast<size_t>(len));
    if (!fill_secure(out.data(), out.size())) return engine::Trap{engine::TrapKind::HostError, "getrandom failed"};
    return out;
  }
  HostResult<uint64_t> get_random_u64() override {
    uint64_t v = 0;
    if (!fill_secure(reinterpret_cast<uint8_t*>(&v), sizeof v))
      return engine::Trap{engine::TrapKind::HostError, "getrandom failed"};
    return v;
  }
};

// Fast and unpredictable enough for hash seeds; seeded from the CSPRNG.
class InsecureHost final : public ::wasi::random::insecure::Host {
 public:
  InsecureHost() {
    uint64_t seed = 0;
    fill_secure(reinterpret_cast<uint8_t*>(&seed), sizeof seed);
    rng_.seed(seed);
  }
  HostResult<std::vector<uint8_t>> get_insecure_random_bytes(const uint64_t& len) override {
    if (len > kMaxRandomBytes) return guest_error("get-insecure-random-bytes: too many bytes");
    std::vector<uint8_t> out(static_cast<size_t>(len));
    for (size_t i = 0; i < out.size(); i += 8) {
      uint64_t v = rng_();
      for (size_t k = 0; k < 8 && i + k < out.size(); ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
    }
    return out;
  }
  HostResult<uint64_t> get_insecure_random_u64() override { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

class InsecureSeedHost final : public ::wasi::random::insecure_seed::Host {
 public:
  InsecureSeedHost() { fill_secure(reinterpret_cast<uint8_t*>(&seed_), sizeof seed_); }
  // The same for the instance's lifetime, as the interface says.
  HostResult<std::tuple<uint64_t, uint64_t>> insecure_seed() override { return std::make_tuple(seed_[0], seed_[1]); }

 private:
  uint64_t seed_[2] = {0, 0};
};

}  // namespace

Result<void> define_random(component::Linker& linker, WasiCtx&, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(::wasi::random::random::define(linker, keep.keep(std::make_shared<RandomHost>()), resources));
  STRATUS_TRY(::wasi::random::insecure::define(linker, keep.keep(std::make_shared<InsecureHost>()), resources));
  STRATUS_TRY(
      ::wasi::random::insecure_seed::define(linker, keep.keep(std::make_shared<InsecureSeedHost>()), resources));
  return {};
}

}  // namespace stratus::wasi::p2

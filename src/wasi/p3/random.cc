// wasi:random 0.3: the same hosts as 0.2's (p2/random.h).
#include "wasi/p2/random.h"
#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {
namespace {

namespace random = ::p3::wasi::random;

class InsecureSeedHost final : public random::insecure_seed::Host {
 public:
  InsecureSeedHost() { p2::fill_secure(reinterpret_cast<uint8_t*>(&seed_), sizeof seed_); }
  // The same for the instance's lifetime, as the interface says.
  wit::HostResult<std::tuple<uint64_t, uint64_t>> get_insecure_seed() override {
    return std::make_tuple(seed_[0], seed_[1]);
  }

 private:
  uint64_t seed_[2] = {0, 0};
};

}  // namespace

Result<void> define_random(component::Linker& linker, WasiCtx&, wit::HostResources& resources, HostObjects& keep) {
  auto& r = keep.keep(std::make_shared<p2::RandomHost<random::random::Host>>());
  STRATUS_TRY(define_versions(linker, random::random::kInterface, random::random::make_host_instance(r, resources)));
  auto& i = keep.keep(std::make_shared<p2::InsecureHost<random::insecure::Host>>());
  STRATUS_TRY(
      define_versions(linker, random::insecure::kInterface, random::insecure::make_host_instance(i, resources)));
  auto& s = keep.keep(std::make_shared<InsecureSeedHost>());
  STRATUS_TRY(define_versions(linker, random::insecure_seed::kInterface,
                              random::insecure_seed::make_host_instance(s, resources)));
  return {};
}

}  // namespace stratus::wasi::p3

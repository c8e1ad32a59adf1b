// wasi:random/random (the OS's CSPRNG), insecure and insecure-seed.
#include "wasi/p2/random.h"

#include "wasi/p2/hosts.h"

namespace stratus::wasi::p2 {
namespace {

using wit::HostResult;

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
  STRATUS_TRY(::wasi::random::random::define(
      linker, keep.keep(std::make_shared<RandomHost<::wasi::random::random::Host>>()), resources));
  STRATUS_TRY(::wasi::random::insecure::define(
      linker, keep.keep(std::make_shared<InsecureHost<::wasi::random::insecure::Host>>()), resources));
  STRATUS_TRY(
      ::wasi::random::insecure_seed::define(linker, keep.keep(std::make_shared<InsecureSeedHost>()), resources));
  return {};
}

}  // namespace stratus::wasi::p2

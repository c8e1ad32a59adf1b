// SHA-1 (FIPS 180-4), for mysql_native_password's scramble only: the guest
// has no OpenSSL, and the protocol needs nothing stronger.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mysql {

using Sha1Digest = std::array<uint8_t, 20>;

// Hashes its input in pieces: update() as often as needed, then digest().
class Sha1 {
 public:
  Sha1();
  void update(std::span<const uint8_t> bytes);
  void update(std::string_view text);
  Sha1Digest digest();

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 5> h_;
  std::array<uint8_t, 64> pending_{};
  size_t pending_size_ = 0;
  uint64_t total_ = 0;
};

Sha1Digest sha1(std::span<const uint8_t> bytes);
Sha1Digest sha1(std::string_view text);

}  // namespace mysql

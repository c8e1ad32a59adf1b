// Content hashes (SHA-256) for cache keys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace stratus {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(std::span<const uint8_t> bytes);
  Sha256& update(std::string_view text);
  // Lower-case hex digest; the object must not be updated afterwards.
  std::string hex();

 private:
  void* ctx_;
};

std::string sha256_hex(std::span<const uint8_t> bytes);

}  // namespace stratus

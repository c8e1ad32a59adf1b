// Typed, bounds-checked access to the calling instance's linear memory.
// Every guest pointer goes through here: an access outside the memory (or a
// module without a memory) yields nullopt/false, which the calls turn into
// EFAULT, so a hostile guest never makes the host touch memory it must not.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "engine/engine.h"

namespace stratus::wasi::preview1 {

class GuestMemory {
 public:
  explicit GuestMemory(engine::Memory* memory) : memory_(memory) {}

  // A view of [ptr, ptr+len), valid until the host call returns or the memory grows.
  std::optional<std::span<uint8_t>> bytes(uint64_t ptr, uint64_t len) {
    if (memory_ == nullptr) return std::nullopt;
    return memory_->view(ptr, len);
  }

  template <class T>
  std::optional<T> load(uint64_t ptr) {
    auto v = bytes(ptr, sizeof(T));
    if (!v) return std::nullopt;
    T out;
    std::memcpy(&out, v->data(), sizeof(T));  // wasm is little-endian, like the hosts we run on
    return out;
  }

  template <class T>
  bool store(uint64_t ptr, T value) {
    auto v = bytes(ptr, sizeof(T));
    if (!v) return false;
    std::memcpy(v->data(), &value, sizeof(T));
    return true;
  }

  bool store_bytes(uint64_t ptr, std::span<const uint8_t> data) {
    auto v = bytes(ptr, data.size());
    if (!v) return false;
    if (!data.empty()) std::memcpy(v->data(), data.data(), data.size());
    return true;
  }

  bool store_string(uint64_t ptr, std::string_view s) {
    return store_bytes(ptr, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }

 private:
  engine::Memory* memory_;
};

}  // namespace stratus::wasi::preview1

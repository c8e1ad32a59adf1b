// A cursor over untrusted bytes: LEB128 integers, names and vectors, every
// read bounds checked. Errors carry the absolute offset of what was bad.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "support/result.h"

namespace stratus::component::binary {

class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, size_t base_offset) : bytes_(bytes), base_(base_offset) {}

  bool done() const { return pos_ >= bytes_.size(); }
  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  Error error(const std::string& what) const { return error_at(offset(), what); }
  static Error error_at(size_t offset, const std::string& what);

  Result<uint8_t> u8();
  Result<uint8_t> peek() const;
  Result<uint32_t> u32();
  // A signed LEB128 of up to 33 bits (value types: negative opcodes are
  // primitive types, non-negative values are type indices).
  Result<int64_t> s33();
  Result<std::span<const uint8_t>> bytes(size_t n);
  Result<std::string> name();
  // A vector length, checked against the bytes left (each element takes at
  // least `min_element_size` bytes), so a hostile count never drives an
  // allocation.
  Result<uint32_t> count(size_t min_element_size = 1);

 private:
  std::span<const uint8_t> bytes_;
  size_t base_;
  size_t pos_ = 0;
};

}  // namespace stratus::component::binary

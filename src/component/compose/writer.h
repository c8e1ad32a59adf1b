// The bytes of the component binary format (Binary.md) that composing
// writes: LEB128 integers, names, vectors and sections. A writer only
// appends; what the bytes mean is the caller's (type_encoder.h, compose.cc).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace stratus::component::compose {

class Writer {
 public:
  void u8(uint8_t b) { bytes_.push_back(b); }
  void u32(uint32_t v);  // unsigned LEB128
  void s33(int64_t v);   // signed LEB128 (a valtype's type index)
  void name(std::string_view s);
  void raw(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  // A section: its id, its size and `content`.
  void section(uint8_t id, std::span<const uint8_t> content);

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

// Section ids of the component binary format.
enum SectionId : uint8_t {
  kCustomSection = 0,
  kCoreModuleSection = 1,
  kCoreInstanceSection = 2,
  kCoreTypeSection = 3,
  kComponentSection = 4,
  kInstanceSection = 5,
  kAliasSection = 6,
  kTypeSection = 7,
  kCanonSection = 8,
  kStartSection = 9,
  kImportSection = 10,
  kExportSection = 11,
};

// `\0asm`, version 0x0d, layer 1.
constexpr uint8_t kComponentPreamble[] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};

}  // namespace stratus::component::compose

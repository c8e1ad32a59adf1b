#include "engine/prescan.h"

#include <cstdio>
#include <optional>

namespace stratus::engine {
namespace {

std::optional<uint64_t> leb_u32(std::span<const uint8_t> bytes, size_t& pos) {
  uint64_t result = 0;
  for (int shift = 0; shift < 35 && pos < bytes.size(); shift += 7) {
    uint8_t b = bytes[pos++];
    result |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return result;
  }
  return std::nullopt;
}

}  // namespace

Result<void> prescan_module(std::span<const uint8_t> bytes) {
  size_t pos = 8;
  while (pos < bytes.size()) {
    size_t start = pos;
    uint8_t id = bytes[pos++];
    auto size = leb_u32(bytes, pos);
    if (!size || *size > bytes.size() - pos) return {};  // wabt reports framing errors itself
    if (id == 12) {
      size_t p = pos;
      auto count = leb_u32(bytes, p);
      // Every data segment takes at least 2 bytes of the module (a passive
      // one with no bytes: flag and length).
      if (count && *count > bytes.size() / 2) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "offset 0x%zx: data count %llu exceeds what a module of %zu bytes can hold",
                      start, static_cast<unsigned long long>(*count), bytes.size());
        return make_error(buf);
      }
    }
    pos += *size;
  }
  return {};
}

}  // namespace stratus::engine

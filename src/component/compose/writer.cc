#include "component/compose/writer.h"

namespace stratus::component::compose {

void Writer::u32(uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    bytes_.push_back(b);
  } while (v != 0);
}

void Writer::s33(int64_t v) {
  while (true) {
    uint8_t b = v & 0x7f;
    v >>= 7;  // arithmetic: keeps the sign
    bool done = (v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0);
    if (!done) b |= 0x80;
    bytes_.push_back(b);
    if (done) return;
  }
}

void Writer::name(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  bytes_.insert(bytes_.end(), s.begin(), s.end());
}

void Writer::section(uint8_t id, std::span<const uint8_t> content) {
  u8(id);
  u32(static_cast<uint32_t>(content.size()));
  raw(content);
}

}  // namespace stratus::component::compose

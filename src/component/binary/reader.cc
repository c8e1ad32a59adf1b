#include "component/binary/reader.h"

#include <cstdio>

namespace stratus::component::binary {

Error Reader::error_at(size_t offset, const std::string& what) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "offset 0x%zx: ", offset);
  return make_error(buf + what);
}

Result<uint8_t> Reader::u8() {
  if (pos_ >= bytes_.size()) return error("unexpected end of section");
  return bytes_[pos_++];
}

Result<uint8_t> Reader::peek() const {
  if (pos_ >= bytes_.size()) return error("unexpected end of section");
  return bytes_[pos_];
}

Result<uint32_t> Reader::u32() {
  size_t start = offset();
  uint64_t result = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    auto b = u8();
    if (!b.ok()) return std::move(b).error();
    result |= uint64_t{*b & 0x7fu} << shift;
    if ((*b & 0x80) == 0) {
      if (shift == 28 && (*b & 0x70) != 0) return error_at(start, "integer too large");
      return static_cast<uint32_t>(result);
    }
  }
  return error_at(start, "integer representation too long");
}

Result<int64_t> Reader::s33() {
  size_t start = offset();
  int64_t result = 0;
  int shift = 0;
  uint8_t byte = 0;
  do {
    if (shift >= 35) return error_at(start, "integer representation too long");
    auto b = u8();
    if (!b.ok()) return std::move(b).error();
    byte = *b;
    result |= int64_t{byte & 0x7f} << shift;
    shift += 7;
  } while (byte & 0x80);
  if (shift < 64 && (byte & 0x40)) result |= -(int64_t{1} << shift);
  if (result < -(int64_t{1} << 32) || result >= (int64_t{1} << 32)) return error_at(start, "integer too large");
  return result;
}

Result<std::span<const uint8_t>> Reader::bytes(size_t n) {
  if (n > remaining()) return error("unexpected end of section (need " + std::to_string(n) + " bytes)");
  auto out = bytes_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<std::string> Reader::name() {
  auto len = u32();
  if (!len.ok()) return std::move(len).error();
  size_t start = offset();
  auto b = bytes(*len);
  if (!b.ok()) return std::move(b).error();
  // Names are UTF-8.
  const uint8_t* s = b->data();
  size_t n = b->size(), i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t len_cp = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len_cp == 0 || i + len_cp > n) return error_at(start, "malformed UTF-8 encoding in name");
    uint32_t cp = len_cp == 1 ? c : c & (0x7F >> len_cp);
    for (size_t k = 1; k < len_cp; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return error_at(start, "malformed UTF-8 encoding in name");
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static const uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for[len_cp] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return error_at(start, "malformed UTF-8 encoding in name");
    i += len_cp;
  }
  return std::string(reinterpret_cast<const char*>(s), n);
}

Result<uint32_t> Reader::count(size_t min_element_size) {
  size_t start = offset();
  auto n = u32();
  if (!n.ok()) return n;
  if (uint64_t{*n} * min_element_size > remaining())
    return error_at(start, "vector length " + std::to_string(*n) + " exceeds the bytes left in the section");
  return n;
}

}  // namespace stratus::component::binary

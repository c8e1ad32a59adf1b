// Strings in linear memory: load_string_from_range and the store_string_*
// transcoding family of definitions.py. Component values hold strings as
// UTF-8, so stores always transcode from UTF-8, with the realloc calls the
// spec makes for a UTF-8 source.
#include <cstring>

#include "component/canon/internal.h"
#include "support/utf8.h"

namespace stratus::component::canon {
namespace {

std::vector<uint16_t> to_utf16(const std::string& utf8) {
  std::vector<uint16_t> out;
  out.reserve(utf8.size());
  const auto* s = reinterpret_cast<const uint8_t*>(utf8.data());
  size_t i = 0;
  while (i < utf8.size()) {
    auto cp = next_utf8(s, utf8.size(), i);
    if (!cp) {  // Val strings are valid UTF-8; be safe anyway.
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    if (*cp >= 0x10000) {
      char32_t v = *cp - 0x10000;
      out.push_back(static_cast<uint16_t>(0xD800 + (v >> 10)));
      out.push_back(static_cast<uint16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      out.push_back(static_cast<uint16_t>(*cp));
    }
  }
  return out;
}

Result<void> write_bytes(Context& cx, uint64_t ptr, const void* data, size_t n) {
  if (n == 0) return {};
  auto view = cx.memory->view(ptr, n);
  if (!view) return make_error("string out of bounds");
  std::memcpy(view->data(), data, n);
  return {};
}

Result<void> write_utf16(Context& cx, uint64_t ptr, const std::vector<uint16_t>& units, size_t from = 0) {
  if (units.size() <= from) return {};
  auto view = cx.memory->view(ptr + 2 * from, 2 * (units.size() - from));
  if (!view) return make_error("string out of bounds");
  for (size_t k = from; k < units.size(); ++k) {
    (*view)[2 * (k - from)] = static_cast<uint8_t>(units[k] & 0xFF);
    (*view)[2 * (k - from) + 1] = static_cast<uint8_t>(units[k] >> 8);
  }
  return {};
}

Result<void> check_aligned(uint32_t ptr, uint32_t alignment) {
  if (ptr % alignment != 0) return make_error("string pointer " + std::to_string(ptr) + " is not aligned");
  return {};
}

// UTF-8 validation, eight ASCII bytes at a time.
}  // namespace

bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t chunk;
      std::memcpy(&chunk, s + i, 8);
      if ((chunk & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    if (!next_utf8(s, n, i)) return false;
  }
  return true;
}

Result<std::string> load_string_from_range(Context& cx, uint32_t ptr, uint32_t tagged_code_units) {
  if (cx.memory == nullptr) return make_error("string needs a memory (canonical option `memory`)");
  enum { Utf8, Utf16, Latin1 } encoding = Utf8;
  uint32_t align = 1;
  uint64_t byte_length = tagged_code_units;
  switch (cx.encoding) {
    case StringEncoding::Utf8: break;
    case StringEncoding::Utf16: encoding = Utf16, align = 2, byte_length = 2 * uint64_t{tagged_code_units}; break;
    case StringEncoding::Latin1Utf16:
      align = 2;
      if (tagged_code_units & kUtf16Tag) {
        encoding = Utf16, byte_length = 2 * uint64_t{tagged_code_units ^ kUtf16Tag};
      } else {
        encoding = Latin1;
      }
      break;
  }
  if (byte_length > kMaxStringByteLength)
    return make_error("string byte length " + std::to_string(byte_length) + " exceeds the maximum");
  if (ptr % align != 0) return make_error("string pointer " + std::to_string(ptr) + " is not aligned");
  STRATUS_TRY(check_range(cx, ptr, byte_length, "string"));
  std::string out;
  if (byte_length == 0) return out;
  auto view = cx.memory->view(ptr, byte_length);
  if (!view) return make_error("string out of bounds");
  const uint8_t* s = view->data();
  if (encoding == Utf8) {
    if (!valid_utf8(s, byte_length)) return make_error("invalid utf-8 in string");
    out.assign(reinterpret_cast<const char*>(s), byte_length);
  } else if (encoding == Latin1) {
    out.reserve(byte_length);
    for (size_t i = 0; i < byte_length; ++i) append_utf8(out, s[i]);
  } else {
    out.reserve(byte_length);
    size_t units = byte_length / 2;
    for (size_t k = 0; k < units; ++k) {
      char32_t u = s[2 * k] | (s[2 * k + 1] << 8);
      if (u >= 0xD800 && u <= 0xDBFF) {
        if (k + 1 >= units) return make_error("unpaired utf-16 surrogate in string");
        char32_t lo = s[2 * k + 2] | (s[2 * k + 3] << 8);
        if (lo < 0xDC00 || lo > 0xDFFF) return make_error("unpaired utf-16 surrogate in string");
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        ++k;
      } else if (u >= 0xDC00 && u <= 0xDFFF) {
        return make_error("unpaired utf-16 surrogate in string");
      }
      append_utf8(out, u);
    }
  }
  return out;
}

Result<std::pair<uint32_t, uint32_t>> store_string_into_range(Context& cx, const std::string& src) {
  if (cx.memory == nullptr) return make_error("string needs a memory (canonical option `memory`)");
  uint64_t src_code_units = src.size();
  if (src_code_units > kMaxStringByteLength) return make_error("string too long to lower");
  auto units32 = static_cast<uint32_t>(src_code_units);
  switch (cx.encoding) {
    case StringEncoding::Utf8: {
      // store_string_copy
      auto ptr = allocate(cx, 0, 0, 1, units32);
      if (!ptr.ok()) return std::move(ptr).error();
      STRATUS_TRY(check_range(cx, *ptr, units32, "string"));
      STRATUS_TRY(write_bytes(cx, *ptr, src.data(), src.size()));
      return std::make_pair(*ptr, units32);
    }
    case StringEncoding::Utf16: {
      // store_utf8_to_utf16
      uint32_t worst = 2 * units32;
      auto ptr = allocate(cx, 0, 0, 2, worst);
      if (!ptr.ok()) return std::move(ptr).error();
      STRATUS_TRY(check_aligned(*ptr, 2));
      STRATUS_TRY(check_range(cx, *ptr, worst, "string"));
      auto encoded = to_utf16(src);
      STRATUS_TRY(write_utf16(cx, *ptr, encoded));
      uint32_t len = static_cast<uint32_t>(2 * encoded.size());
      uint32_t p = *ptr;
      if (len < worst) {
        auto np = allocate(cx, p, worst, 2, len);
        if (!np.ok()) return std::move(np).error();
        STRATUS_TRY(check_aligned(*np, 2));
        STRATUS_TRY(check_range(cx, *np, len, "string"));
        p = *np;
      }
      return std::make_pair(p, static_cast<uint32_t>(encoded.size()));
    }
    case StringEncoding::Latin1Utf16: {
      // store_string_to_latin1_or_utf16
      auto ptr = allocate(cx, 0, 0, 2, units32);
      if (!ptr.ok()) return std::move(ptr).error();
      STRATUS_TRY(check_aligned(*ptr, 2));
      STRATUS_TRY(check_range(cx, *ptr, units32, "string"));
      uint32_t p = *ptr;
      const auto* s = reinterpret_cast<const uint8_t*>(src.data());
      uint32_t dst_byte_length = 0;
      size_t i = 0;
      while (i < src.size()) {
        auto cp = next_utf8(s, src.size(), i);
        char32_t c = cp ? *cp : 0xFFFD;
        if (!cp) ++i;
        if (c < 0x100) {
          auto b = static_cast<uint8_t>(c);
          STRATUS_TRY(write_bytes(cx, uint64_t{p} + dst_byte_length, &b, 1));
          ++dst_byte_length;
          continue;
        }
        uint32_t worst = 2 * units32;
        auto np = allocate(cx, p, units32, 2, worst);
        if (!np.ok()) return std::move(np).error();
        STRATUS_TRY(check_aligned(*np, 2));
        STRATUS_TRY(check_range(cx, *np, worst, "string"));
        p = *np;
        // Inflate the Latin-1 prefix in place, back to front.
        auto view = cx.memory->view(p, worst);
        if (!view) return make_error("string out of bounds");
        for (int64_t j = static_cast<int64_t>(dst_byte_length) - 1; j >= 0; --j) {
          (*view)[2 * j] = (*view)[j];
          (*view)[2 * j + 1] = 0;
        }
        auto encoded = to_utf16(src);
        STRATUS_TRY(write_utf16(cx, p, encoded, dst_byte_length));
        uint32_t len = static_cast<uint32_t>(2 * encoded.size());
        if (worst > len) {
          auto sp = allocate(cx, p, worst, 2, len);
          if (!sp.ok()) return std::move(sp).error();
          STRATUS_TRY(check_aligned(*sp, 2));
          STRATUS_TRY(check_range(cx, *sp, len, "string"));
          p = *sp;
        }
        return std::make_pair(p, static_cast<uint32_t>(encoded.size()) | kUtf16Tag);
      }
      if (dst_byte_length < units32) {
        auto sp = allocate(cx, p, units32, 2, dst_byte_length);
        if (!sp.ok()) return std::move(sp).error();
        STRATUS_TRY(check_aligned(*sp, 2));
        STRATUS_TRY(check_range(cx, *sp, dst_byte_length, "string"));
        p = *sp;
      }
      return std::make_pair(p, dst_byte_length);
    }
  }
  return make_error("unknown string encoding");
}

}  // namespace stratus::component::canon

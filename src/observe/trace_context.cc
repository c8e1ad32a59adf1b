#include "observe/trace_context.h"

#include <random>

namespace stratus::observe {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not valid traceparent
}

template <size_t N>
bool parse_hex(std::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  bool all_zero = true;
  for (size_t i = 0; i < N; ++i) {
    int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
    all_zero = all_zero && out[i] == 0;
  }
  return !all_zero;
}

std::mt19937_64& generator() {
  thread_local std::mt19937_64 g{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  return g;
}

template <size_t N>
std::array<uint8_t, N> random_id() {
  std::array<uint8_t, N> id{};
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t r = generator()();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (id == std::array<uint8_t, N>{});
  return id;
}

}  // namespace

std::optional<TraceContext> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  int v_hi = hex_digit(h[0]), v_lo = hex_digit(h[1]);
  if (v_hi < 0 || v_lo < 0 || (v_hi == 15 && v_lo == 15)) return std::nullopt;
  // Version 00 is exactly 55 characters; a later one may add fields after a dash.
  if (v_hi == 0 && v_lo == 0 && h.size() != 55) return std::nullopt;
  if (h.size() > 55 && h[55] != '-') return std::nullopt;
  TraceContext c;
  if (!parse_hex(h.substr(3, 32), c.trace_id) || !parse_hex(h.substr(36, 16), c.span_id)) return std::nullopt;
  int f_hi = hex_digit(h[53]), f_lo = hex_digit(h[54]);
  if (f_hi < 0 || f_lo < 0) return std::nullopt;
  c.flags = static_cast<uint8_t>(f_hi * 16 + f_lo);
  return c;
}

std::string to_hex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string format_traceparent(const TraceContext& c) {
  return "00-" + to_hex(c.trace_id.data(), c.trace_id.size()) + "-" + to_hex(c.span_id.data(), c.span_id.size()) + "-" +
         to_hex(&c.flags, 1);
}

TraceId new_trace_id() { return random_id<16>(); }
SpanId new_span_id() { return random_id<8>(); }

}  // namespace stratus::observe

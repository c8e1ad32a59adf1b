// W3C Trace Context (https://www.w3.org/TR/trace-context/): the
// `traceparent` header read from a request and new ids for the spans
// stratus makes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus::observe {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct TraceContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t flags = 0;  // bit 0: sampled
  std::string trace_state;
};

// `traceparent` of version 00 ("00-<32 hex>-<16 hex>-<2 hex>", lower case)
// or of a later version (its first four fields); nullopt for anything else,
// all-zero ids and version ff, as the specification says to ignore them.
std::optional<TraceContext> parse_traceparent(std::string_view header);
std::string format_traceparent(const TraceContext& context);

// Random, never all zero (a per-thread generator seeded from the OS).
TraceId new_trace_id();
SpanId new_span_id();

std::string to_hex(const uint8_t* bytes, size_t n);

}  // namespace stratus::observe

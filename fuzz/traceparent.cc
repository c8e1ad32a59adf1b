// Fuzzes the W3C `traceparent` parser (observe/trace_context.h) with
// arbitrary header values, which come from any HTTP client: it gives a
// context or nothing, never crashes; a context it reads is written back to
// a header that reads to the same ids and flags.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "observe/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stratus::observe;
  auto parsed = parse_traceparent(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) return 0;
  auto again = parse_traceparent(format_traceparent(*parsed));
  if (!again || again->trace_id != parsed->trace_id || again->span_id != parsed->span_id ||
      again->flags != parsed->flags)
    std::abort();
  return 0;
}

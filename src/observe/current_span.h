// The span the calling thread works under: the server span of the request
// a serving thread runs, set around the guest's call. Log records made on
// that thread (wasi:logging, the host's own lines) carry its ids, and a
// guest's own spans (wasi:otel) continue its trace. A minimal API of our
// own: one thread-local pointer, no context propagation across threads.
#pragma once

#include "observe/trace_context.h"

namespace stratus::observe {

// The current span's context, or null outside any.
const TraceContext* current_span();

// Makes `context` the current span until destroyed (the previous one then
// comes back). `context` must outlive the scope.
class CurrentSpanScope {
 public:
  explicit CurrentSpanScope(const TraceContext& context);
  ~CurrentSpanScope();
  CurrentSpanScope(const CurrentSpanScope&) = delete;
  CurrentSpanScope& operator=(const CurrentSpanScope&) = delete;

 private:
  const TraceContext* previous_;
};

}  // namespace stratus::observe

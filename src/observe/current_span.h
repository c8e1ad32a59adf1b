// Spans below a request's server span: the trace context the running code
// works under is kept per stack (support/trace_slot.h, switched with the
// component runtime's fibers), set by whoever made the span the code runs
// in (CurrentSpan) and read where a child is made (Span::child). Without an
// exporter nothing sets it: making a child is then one thread-local load
// and a branch, with nothing allocated.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "observe/otlp/exporter.h"
#include "support/trace_slot.h"

namespace stratus::observe {

// A span as the code under it sees it: where its children go and their parent.
struct TraceScope {
  TraceExporter* exporter = nullptr;
  TraceContext context;  // the trace, this span's id, flags and trace state
};

// The scope the running code works under; null: none (no trace).
inline const TraceScope* current_scope() { return static_cast<const TraceScope*>(t_trace_slot); }

// The current scope's trace context (the span the running code is under),
// or null outside any: what log records carry and a guest's wasi:otel spans
// continue.
inline const TraceContext* current_span() {
  const TraceScope* scope = current_scope();
  return scope != nullptr ? &scope->context : nullptr;
}

// Makes `scope` the current one while it lives, then puts back the one before.
class CurrentSpan {
 public:
  explicit CurrentSpan(const TraceScope* scope) : before_(t_trace_slot) {
    t_trace_slot = const_cast<TraceScope*>(scope);  // NOLINT(cppcoreguidelines-pro-type-const-cast): stored opaque
  }
  ~CurrentSpan() { t_trace_slot = before_; }
  CurrentSpan(const CurrentSpan&) = delete;
  CurrentSpan& operator=(const CurrentSpan&) = delete;

 private:
  void* before_;
};

// A span being made: submitted to its exporter when it ends (end(), or its
// destruction). An inactive one (no parent) does nothing and holds nothing.
class Span {
 public:
  Span() = default;
  // A child of `parent` (null: an inactive span), started now.
  Span(const TraceScope* parent, std::string name, SpanKind kind);
  // A child of the current scope.
  static Span child(std::string name, SpanKind kind) { return {current_scope(), std::move(name), kind}; }
  // A span of `exporter` continuing `traceparent` (and `tracestate`), or
  // the first of a new trace when it is empty or not valid; inactive
  // without an exporter.
  static Span continuing(TraceExporter* exporter, std::string_view traceparent, std::string_view tracestate,
                         std::string name, SpanKind kind);
  Span(Span&&) noexcept = default;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { end(); }

  bool active() const { return state_ != nullptr; }
  // Only for an active span.
  SpanData& data() { return state_->data; }
  Attributes& attributes() { return state_->data.attributes; }
  // What the code inside it works under (CurrentSpan); null when inactive.
  const TraceScope* scope() const { return state_ ? &state_->scope : nullptr; }
  // Marks it failed (OTel's error status) with `message`; an inactive span ignores it.
  void fail(std::string message, std::string type = "");
  // Ends and submits it (once; nothing when inactive).
  void end();

 private:
  struct State {
    SpanData data;
    TraceScope scope;
  };
  std::unique_ptr<State> state_;
};

}  // namespace stratus::observe

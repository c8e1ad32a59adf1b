#include "observe/current_span.h"

namespace stratus::observe {

Span::Span(const TraceScope* parent, std::string name, SpanKind kind) {
  if (parent == nullptr || parent->exporter == nullptr) return;
  state_ = std::make_unique<State>();
  auto& d = state_->data;
  d.trace_id = parent->context.trace_id;
  d.span_id = new_span_id();
  d.parent = parent->context.span_id;
  d.flags = parent->context.flags;
  d.trace_state = parent->context.trace_state;
  d.name = std::move(name);
  d.kind = kind;
  d.start_unix_ns = unix_now_ns();
  state_->scope = TraceScope{parent->exporter, TraceContext{d.trace_id, d.span_id, d.flags, d.trace_state}};
}

Span Span::continuing(TraceExporter* exporter, std::string_view traceparent, std::string_view tracestate,
                      std::string name, SpanKind kind) {
  if (exporter == nullptr) return {};
  auto parent = parse_traceparent(traceparent);
  if (parent) {
    TraceScope scope{exporter, std::move(*parent)};
    scope.context.trace_state = std::string(tracestate);
    return {&scope, std::move(name), kind};
  }
  // A new trace: a parent of the new id, which the span then forgets.
  TraceScope root{exporter, TraceContext{new_trace_id(), {}, 1, {}}};
  Span span(&root, std::move(name), kind);
  span.state_->data.parent.reset();
  return span;
}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    end();
    state_ = std::move(other.state_);
  }
  return *this;
}

void Span::fail(std::string message, std::string type) {
  if (!state_) return;
  state_->data.error = true;
  state_->data.status_message = std::move(message);
  if (!type.empty()) state_->data.attributes.emplace_back("error.type", std::move(type));
}

void Span::end() {
  if (!state_) return;
  auto state = std::move(state_);
  state->data.end_unix_ns = unix_now_ns();
  state->scope.exporter->submit(std::move(state->data));
}

}  // namespace stratus::observe

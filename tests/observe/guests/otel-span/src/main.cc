// A wasi:http component that instruments itself with wasi:otel: for each
// request it makes a span "guest-work" whose parent is the host's span
// (outer-span-context), emits a log record under it and exports a counter,
// then answers 200 "traced". GET /bad sends what the host must refuse.
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "bindings.h"

namespace {

namespace http = ::wasi::http::types;
namespace tracing = ::wasi::otel::tracing;
namespace logs = ::wasi::otel::logs;
namespace metrics = ::wasi::otel::metrics;

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void respond(http::ResponseOutparam out, uint16_t status, std::string_view body) {
  http::Fields headers;
  (void)headers.append("content-type", bytes("text/plain; charset=utf-8"));
  (void)headers.append("content-length", bytes(std::to_string(body.size())));
  http::OutgoingResponse response(std::move(headers));
  (void)response.set_status_code(status);
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!outgoing) return;
  {
    auto stream = outgoing->write();
    if (!stream) return;
    if (!stream->blocking_write_and_flush(bytes(body))) return;
  }
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

// 16 hex digits of a random span id.
std::string new_span_id() {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(::wasi::random::random::get_random_u64() | 1));
  return hex;
}

}  // namespace

namespace exports::wasi::http::incoming_handler {

// GET /bad: what the host must refuse, a span whose trace id is not hex
// (dropped, said on the host's log) and an exponential histogram (an error
// result, sent back as the body).
void bad_input(::wasi::http::types::ResponseOutparam response_out) {
  tracing::SpanData span;
  span.span_context.trace_id = "not-a-trace-id";
  span.span_context.span_id = new_span_id();
  span.name = "bad-span";
  span.span_kind = tracing::SpanKind::kInternal;
  span.status = tracing::StatusUnset{};
  tracing::on_end(span);

  metrics::ExponentialHistogram histogram;
  histogram.time = ::wasi::clocks::wall_clock::now();
  histogram.start_time = histogram.time;
  histogram.temporality = metrics::Temporality::kCumulative;
  metrics::Metric metric;
  metric.name = "guest.latency";
  metric.data = metrics::MetricDataF64ExponentialHistogram{histogram};
  metrics::ScopeMetrics scope;
  scope.metrics = {metric};
  metrics::ResourceMetrics exported;
  exported.scope_metrics = {scope};
  auto result = metrics::export_(exported);
  respond(std::move(response_out), 200, result ? std::string("exported\n") : result.error() + "\n");
}

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  if (request.path_with_query().value_or("/") == "/bad") {
    bad_input(std::move(response_out));
    return;
  }
  tracing::SpanContext outer = tracing::outer_span_context();
  tracing::SpanContext mine = outer;
  mine.span_id = new_span_id();
  mine.is_remote = false;
  tracing::on_start(mine);
  auto started = ::wasi::clocks::wall_clock::now();

  logs::LogRecord record;
  record.severity_number = 9;
  record.severity_text = "INFO";
  record.body = "\"hello from the guest\"";  // a JSON string
  record.attributes = std::vector<::wasi::otel::types::KeyValue>{{"guest.step", "1"}};
  record.trace_id = mine.trace_id;
  record.span_id = mine.span_id;
  logs::on_emit(record);

  metrics::SumDataPoint point;
  point.attributes = {{"guest.route", "\"/\""}};
  point.value = metrics::MetricNumberU64{1};
  metrics::Sum sum;
  sum.data_points = {point};
  sum.start_time = started;
  sum.time = ::wasi::clocks::wall_clock::now();
  sum.temporality = metrics::Temporality::kDelta;
  sum.is_monotonic = true;
  metrics::Metric metric;
  metric.name = "guest.requests";
  metric.description = "Requests the guest served.";
  metric.unit = "1";
  metric.data = metrics::MetricDataU64Sum{sum};
  metrics::ScopeMetrics scope;
  scope.scope.name = "otel-span-guest";
  scope.metrics = {metric};
  metrics::ResourceMetrics exported;
  exported.scope_metrics = {scope};
  (void)metrics::export_(exported);

  tracing::SpanData span;
  span.span_context = mine;
  span.parent_span_id = outer.span_id;
  span.span_kind = tracing::SpanKind::kInternal;
  span.name = "guest-work";
  span.start_time = started;
  span.end_time = ::wasi::clocks::wall_clock::now();
  span.attributes = {{"guest.answer", "42"}, {"guest.word", "\"traced\""}};
  span.status = tracing::StatusOk{};
  span.instrumentation_scope.name = "otel-span-guest";
  tracing::on_end(span);

  respond(std::move(response_out), 200, "traced\n");
}

}  // namespace exports::wasi::http::incoming_handler

// The server span of a request when ServeOptions::traces is set: its trace
// continues the request's W3C `traceparent` (a new trace without one), the
// guest sees the span as its parent (the header is rewritten), and it ends
// with the semantic conventions' HTTP server attributes
// (http.request.method, url.path, http.response.status_code, http.route,
// server.address, ...) plus the workload and component.
#pragma once

#include <string>
#include <string_view>

#include "observe/current_span.h"
#include "observe/otlp/exporter.h"

namespace stratus::serve {

// `traceparent` and `tracestate` as the request had them (empty: none).
observe::SpanData begin_server_span(std::string_view traceparent, std::string_view tracestate);

struct ServedRequest {
  std::string_view method, target, host;  // target: path and query; host: the Host header
  unsigned status = 0;
  const std::string* route = nullptr;  // the route's path prefix ("/" for all); null: no route took it
  std::string_view workload, component;
  bool trapped = false;
};
void end_server_span(observe::SpanData& span, const ServedRequest& served);

struct Route;
// The span of the route's component invoked for a request, under `server`
// (the request's span), started now: `invoke COMPONENT` (internal), with
// stratus.workload, stratus.component and stratus.export (`handler`).
observe::Span invocation_span(const observe::TraceScope& server, const Route& route, const std::string& handler);

}  // namespace stratus::serve

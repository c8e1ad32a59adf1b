#include "serve/request_trace.h"

#include "serve/http_server.h"
#include "serve/route_metrics.h"

namespace stratus::serve {

observe::SpanData begin_server_span(std::string_view traceparent, std::string_view tracestate) {
  observe::SpanData span;
  span.kind = observe::SpanKind::kServer;
  span.start_unix_ns = observe::unix_now_ns();
  span.span_id = observe::new_span_id();
  if (auto parent = observe::parse_traceparent(traceparent)) {
    span.trace_id = parent->trace_id;
    span.parent = parent->span_id;
    span.flags = parent->flags;
    span.trace_state = std::string(tracestate);
  } else {
    span.trace_id = observe::new_trace_id();
    span.flags = 1;  // sampled: every span is exported
  }
  return span;
}

void end_server_span(observe::SpanData& span, const ServedRequest& r) {
  span.end_unix_ns = observe::unix_now_ns();
  std::string method(method_label(r.method));
  span.name = r.route != nullptr ? method + " " + *r.route : method;
  auto query = r.target.find('?');
  auto& a = span.attributes;
  a.emplace_back("http.request.method", method);
  if (method == "_OTHER") a.emplace_back("http.request.method_original", std::string(r.method));
  a.emplace_back("url.path", std::string(r.target.substr(0, query)));
  if (query != std::string_view::npos) a.emplace_back("url.query", std::string(r.target.substr(query + 1)));
  a.emplace_back("url.scheme", std::string("http"));
  if (r.status != 0) a.emplace_back("http.response.status_code", static_cast<int64_t>(r.status));
  if (r.route != nullptr) a.emplace_back("http.route", *r.route);
  std::string_view host = r.host;
  if (!host.empty() && host.front() != '[') {
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      std::string_view port = host.substr(colon + 1);
      if (!port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos && port.size() <= 5)
        a.emplace_back("server.port", static_cast<int64_t>(std::stoi(std::string(port))));
      host = host.substr(0, colon);
    }
  }
  if (!host.empty()) a.emplace_back("server.address", std::string(host));
  a.emplace_back("network.protocol.version", std::string("1.1"));
  if (!r.workload.empty()) a.emplace_back("stratus.workload", std::string(r.workload));
  if (!r.component.empty()) a.emplace_back("stratus.component", std::string(r.component));
  // The conventions: a server span is an error for 5xx, not for 4xx.
  if (r.status >= 500 || r.status == 0) {
    span.error = true;
    span.status_message = r.trapped ? "the component trapped" : "";
    a.emplace_back("error.type", r.status != 0 ? std::to_string(r.status) : std::string("_OTHER"));
  }
}

observe::Span invocation_span(const observe::TraceScope& server, const Route& route, const std::string& handler) {
  const std::string& component = route.component_name.empty() ? route.name : route.component_name;
  observe::Span span(&server, "invoke " + component, observe::SpanKind::kInternal);
  auto& a = span.attributes();
  if (!route.workload_name.empty()) a.emplace_back("stratus.workload", route.workload_name);
  a.emplace_back("stratus.component", component);
  a.emplace_back("stratus.export", handler);
  return span;
}

}  // namespace stratus::serve

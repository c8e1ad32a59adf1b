// What the server measures per route when ServeOptions::metrics is set:
// the OpenTelemetry HTTP server metrics as Prometheus names them
// (http.server.request.duration -> http_server_request_duration_seconds,
// attributes with dots as underscores), invocations and traps per
// component, and the last minute of requests for the status page. The
// request path resolves nothing by name: the children it needs are found
// once per route, and per (method, status) through a small map.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "observe/metrics.h"
#include "observe/request_window.h"

namespace stratus::serve {

// The families, made once per registry (per server).
struct ServeInstruments {
  explicit ServeInstruments(observe::Registry& registry);
  observe::Family<observe::Histogram>& request_duration;
  observe::Family<observe::Gauge>& active_requests;
  observe::Family<observe::Counter>& invocations;
  observe::Family<observe::Counter>& traps;
  observe::Family<observe::Gauge>& instances;
};

// OpenTelemetry's known methods as themselves, the rest as "_OTHER" (the
// semantic conventions' rule, which also bounds the label's values).
std::string_view method_label(std::string_view method);

class RouteMetrics {
 public:
  // `workload` and `component` label the route's series; `route` is its
  // http.route (the path prefix, "/" for all).
  RouteMetrics(ServeInstruments& instruments, std::string workload, std::string component, std::string route);

  void begin() { active_.add(1); }
  // A request that began (begin) has been answered with `status` after
  // `seconds`; `invoked`: a component instance handled it, `trapped`: it trapped.
  void end(std::string_view method, unsigned status, double seconds, bool invoked, bool trapped);
  observe::RequestWindow::Summary last_minute() const { return window_.summary(observe::RequestWindow::now_seconds()); }
  uint64_t invocations() const { return invocations_.value(); }
  uint64_t traps() const { return traps_.value(); }
  const std::string& workload() const { return workload_; }
  const std::string& component() const { return component_; }
  const std::string& route() const { return route_; }

 private:
  ServeInstruments& instruments_;
  std::string workload_, component_, route_;
  observe::Gauge& active_;
  observe::Counter& invocations_;
  observe::Counter& traps_;
  // The duration histogram of each (method, status): found without a lock
  // for the known methods and statuses 100-599 (`fast_`, filled once each),
  // else in `durations_` under `mu_`.
  static constexpr uint32_t kFastMethods = 10, kFirstStatus = 100, kStatuses = 500;
  std::array<std::atomic<observe::Histogram*>, kFastMethods * kStatuses> fast_{};
  std::shared_mutex mu_;
  std::unordered_map<uint32_t, observe::Histogram*> durations_;  // by method index << 16 | status
  observe::RequestWindow window_;
};

}  // namespace stratus::serve

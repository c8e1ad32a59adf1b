#include "serve/route_metrics.h"

#include <array>
#include <mutex>

namespace stratus::serve {

namespace {

// OpenTelemetry's advice for http.server.request.duration (seconds).
const std::vector<double> kDurationBounds{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};

constexpr std::array<std::string_view, 9> kMethods{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS",
                                                   "PATCH",   "POST",   "PUT", "TRACE"};

uint32_t method_index(std::string_view method) {
  for (uint32_t i = 0; i < kMethods.size(); ++i)
    if (kMethods[i] == method) return i;
  return kMethods.size();
}

}  // namespace

std::string_view method_label(std::string_view method) {
  uint32_t i = method_index(method);
  return i < kMethods.size() ? kMethods[i] : std::string_view("_OTHER");
}

ServeInstruments::ServeInstruments(observe::Registry& registry)
    : request_duration(registry.histogram(
          "http_server_request_duration_seconds", "Duration of HTTP server requests (http.server.request.duration).",
          {"http_request_method", "http_response_status_code", "http_route", "workload"}, kDurationBounds)),
      active_requests(registry.gauge("http_server_active_requests",
                                     "Number of active HTTP server requests (http.server.active_requests).",
                                     {"http_route", "workload"})),
      invocations(registry.counter("stratus_component_invocations_total", "Requests a component instance handled.",
                                   {"workload", "component"})),
      traps(registry.counter("stratus_component_traps_total", "Calls into a component that trapped or failed.",
                             {"workload", "component"})),
      instances(registry.gauge("stratus_component_instances",
                               "Instances of an HTTP component: live (made and not retired) and pooled (idle, ready).",
                               {"workload", "component", "state"})) {}

RouteMetrics::RouteMetrics(ServeInstruments& instruments, std::string workload, std::string component,
                           std::string route)
    : instruments_(instruments),
      workload_(std::move(workload)),
      component_(std::move(component)),
      route_(std::move(route)),
      active_(instruments.active_requests.with({route_, workload_})),
      invocations_(instruments.invocations.with({workload_, component_})),
      traps_(instruments.traps.with({workload_, component_})) {}

void RouteMetrics::end(std::string_view method, unsigned status, double seconds, bool invoked, bool trapped) {
  active_.add(-1);
  if (invoked) invocations_.add();
  if (trapped) traps_.add();
  window_.record(seconds, observe::RequestWindow::now_seconds());
  uint32_t m = method_index(method);
  std::atomic<observe::Histogram*>* fast = nullptr;
  if (m < kFastMethods && status >= kFirstStatus && status < kFirstStatus + kStatuses)
    fast = &fast_[m * kStatuses + (status - kFirstStatus)];
  observe::Histogram* h = fast != nullptr ? fast->load(std::memory_order_acquire) : nullptr;
  if (h == nullptr) {
    uint32_t key = (m << 16) | (status & 0xffff);
    {
      std::shared_lock lock(mu_);
      auto it = durations_.find(key);
      if (it != durations_.end()) h = it->second;
    }
    if (h == nullptr) {
      auto& child = instruments_.request_duration.with(
          {std::string(method_label(method)), std::to_string(status), route_, workload_});
      std::unique_lock lock(mu_);
      h = durations_.emplace(key, &child).first->second;
    }
    if (fast != nullptr) fast->store(h, std::memory_order_release);
  }
  h->observe(seconds);
}

}  // namespace stratus::serve

// OTLP/HTTP export of a Registry's metrics (otlp/metrics.proto, protobuf
// or JSON): every OtlpConfig::metric_interval a thread of the exporter's
// own reads the registry (running its collectors, as a scrape does) and
// POSTs it through an OtlpTransport: counters as cumulative monotonic
// sums, gauges as gauges, histograms with their explicit bounds. Names are
// OpenTelemetry's (http.server.request.duration, unit s), the reverse of
// what its Prometheus exporter makes of them (otel_metric_name).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "observe/metrics.h"
#include "observe/otlp/config.h"
#include "observe/otlp/transport.h"
#include "support/result.h"

namespace stratus::observe {

// The OpenTelemetry name and unit of a registry family: the unit suffix
// (_seconds: s, _bytes: By) and, for counters, _total come off, and the
// underscores become dots, but for the semantic conventions' names that
// keep one (http.server.active_requests).
struct OtelMetricName {
  std::string name, unit;
};
OtelMetricName otel_metric_name(const std::string& prometheus_name, bool counter);

// A metric a guest made itself (wasi:otel's metrics/export): sent with the
// next export as it is, under its own instrumentation scope.
struct MetricPoint {
  Attributes attributes;
  uint64_t start_unix_ns = 0, time_unix_ns = 0;
  // Gauges and sums: the value, an integer or not.
  std::variant<int64_t, double> value;
  // Histograms: per-bucket counts (bounds.size() + 1), the bounds, count and sum.
  std::vector<uint64_t> bucket_counts;
  std::vector<double> bounds;
  uint64_t count = 0;
  double sum = 0;
};

struct MetricData {
  std::string scope;  // the instrumentation scope's name
  std::string name, description, unit;
  enum class Kind { kGauge, kSum, kHistogram } kind = Kind::kGauge;
  bool monotonic = false;  // sums
  bool delta = false;      // sums and histograms: delta temporality, else cumulative
  std::vector<MetricPoint> points;
};

class MetricExporter {
 public:
  // Errors: a metrics URL that is not http://HOST[:PORT][/PATH]. The
  // registry must outlive the exporter.
  static Result<std::unique_ptr<MetricExporter>> start(const OtlpConfig& config, const Registry& registry);
  // Sends the metrics once more (one attempt), then stops.
  ~MetricExporter();
  MetricExporter(const MetricExporter&) = delete;
  MetricExporter& operator=(const MetricExporter&) = delete;

  // Queues a guest's metrics for the next export; past 1024 queued, they
  // are dropped and counted, never waited for.
  void submit(std::vector<MetricData> metrics);
  uint64_t dropped_guest_metrics() const { return dropped_.load(); }

  // The export request for the registry now (and the guests' metrics
  // queued, which it takes), as it would be sent.
  std::string encode();
  uint64_t exported() const { return exported_.load(); }  // requests a collector took
  uint64_t failed() const { return failed_.load(); }      // requests given up on
  const OtlpSignal& signal() const { return transport_.signal(); }
  std::chrono::milliseconds interval() const { return interval_; }

  // Where the exporter's own lines go (a collector that fails); stderr by default.
  void set_log(std::function<void(const std::string&)> log) { transport_.set_log(std::move(log)); }

 private:
  MetricExporter(const OtlpConfig& config, const Registry& registry, OtlpTransport transport);
  void run();

  const Registry& registry_;
  Attributes resource_;
  std::chrono::milliseconds interval_;
  uint64_t start_unix_ns_;  // the start of every cumulative series
  OtlpTransport transport_;
  std::atomic<uint64_t> exported_{0}, failed_{0}, dropped_{0};
  std::mutex guest_mu_;
  std::vector<MetricData> guest_;  // guest_mu_
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace stratus::observe

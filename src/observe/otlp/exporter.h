// OTLP/HTTP export of spans (protobuf encoding, otlp/trace.proto): spans
// are queued by the request path (bounded: past max_queue they are dropped
// and counted, never waited for) and sent in batches by a thread of the
// exporter's own, every interval or once a batch is full, with retries and
// back-off on the answers the OTLP specification calls retryable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "observe/trace_context.h"
#include "support/result.h"

namespace stratus::observe {

using AttributeValue = std::variant<std::string, int64_t, bool, double>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  std::optional<SpanId> parent;
  std::string trace_state;
  uint8_t flags = 0;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_unix_ns = 0, end_unix_ns = 0;
  Attributes attributes;
  bool error = false;
  std::string status_message;
};

struct OtlpConfig {
  // Where trace batches are POSTed (http://HOST[:PORT]/PATH).
  std::string traces_url;
  Attributes resource;  // service.name and OTEL_RESOURCE_ATTRIBUTES
  size_t max_queue = 2048;
  size_t max_batch = 512;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{10'000};  // per attempt
  int attempts = 4;                           // the first and three retries
};

// The configuration from --otlp-endpoint (`flag`, a base URL as
// OTEL_EXPORTER_OTLP_ENDPOINT is: /v1/traces is appended) and the
// environment (`env`, getenv by default): OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is), OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf
// only), OTEL_TRACES_EXPORTER ("none" turns export off). The flag wins over
// the variables. nullopt: no endpoint, no export. Errors name the flag or
// variable and what is wrong with its value.
Result<std::optional<OtlpConfig>> otlp_config(const std::string& flag,
                                              const std::function<const char*(const char*)>& env = nullptr);

class TraceExporter {
 public:
  // Errors: a URL that is not http://HOST[:PORT][/PATH].
  static Result<std::unique_ptr<TraceExporter>> start(OtlpConfig config);
  // Sends what is queued (one attempt), then stops.
  ~TraceExporter();
  TraceExporter(const TraceExporter&) = delete;
  TraceExporter& operator=(const TraceExporter&) = delete;

  // Queues `span`; drops it (and counts it) when the queue is full.
  void submit(SpanData span);

  uint64_t exported() const { return exported_.load(); }
  uint64_t dropped() const { return dropped_.load(); }  // queue full, or a batch given up on
  const OtlpConfig& config() const { return config_; }

  // Where the exporter's own lines go (a collector that fails); stderr by default.
  void set_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }

 private:
  explicit TraceExporter(OtlpConfig config) : config_(std::move(config)) {}
  void run();
  // One batch, with retries; whether the collector took it.
  bool send(const std::vector<SpanData>& batch, bool last);
  std::string encode(const std::vector<SpanData>& batch) const;

  OtlpConfig config_;
  std::string host_, port_, path_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<SpanData> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> exported_{0}, dropped_{0};
  bool failing_ = false;  // the last batch failed (logged once until one succeeds)
  std::function<void(const std::string&)> log_;
  std::thread thread_;
};

// Nanoseconds since the Unix epoch now.
uint64_t unix_now_ns();

}  // namespace stratus::observe

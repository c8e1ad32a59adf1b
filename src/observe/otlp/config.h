// Where and how OTLP/HTTP export goes, from --otlp-endpoint and the
// OpenTelemetry specification's OTEL_* variables: one endpoint and
// encoding per signal (traces, metrics, logs), the resource, the limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "support/result.h"

namespace stratus::observe {

using AttributeValue = std::variant<std::string, int64_t, bool, double>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

// OTEL_EXPORTER_OTLP_PROTOCOL's http/protobuf and http/json.
enum class OtlpEncoding { kProtobuf, kJson };

// One signal's export: empty url, none.
struct OtlpSignal {
  std::string url;  // http://HOST[:PORT]/PATH
  OtlpEncoding encoding = OtlpEncoding::kProtobuf;
  explicit operator bool() const { return !url.empty(); }
};

struct OtlpConfig {
  // Where trace batches are POSTed (http://HOST[:PORT]/PATH); empty: no spans.
  std::string traces_url;
  OtlpEncoding traces_encoding = OtlpEncoding::kProtobuf;
  OtlpSignal metrics, logs;
  Attributes resource;  // service.name and OTEL_RESOURCE_ATTRIBUTES
  size_t max_queue = 2048;
  size_t max_batch = 512;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{10'000};  // per attempt
  int attempts = 4;                           // the first and three retries
  // OTEL_METRIC_EXPORT_INTERVAL: how often the metrics are sent.
  std::chrono::milliseconds metric_interval{60'000};

  OtlpSignal traces() const { return {traces_url, traces_encoding}; }
};

// The configuration from --otlp-endpoint (`flag`, a base URL as
// OTEL_EXPORTER_OTLP_ENDPOINT is: /v1/traces, /v1/metrics and /v1/logs are
// appended) and the environment (`env`, getenv by default):
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT
// (used as they are), OTEL_EXPORTER_OTLP_PROTOCOL and
// OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_PROTOCOL (http/protobuf, the
// default, or http/json), OTEL_{TRACES,METRICS,LOGS}_EXPORTER ("none" turns
// that signal off), OTEL_METRIC_EXPORT_INTERVAL (milliseconds),
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES. The flag wins over the
// endpoint variables. nullopt: no signal is exported. Errors name the flag
// or variable and what is wrong with its value.
Result<std::optional<OtlpConfig>> otlp_config(const std::string& flag,
                                              const std::function<const char*(const char*)>& env = nullptr);

struct HttpUrl {
  std::string host, port, path;
};
// http://HOST[:PORT][/PATH]; errors start with `what` and the URL.
Result<HttpUrl> parse_http_url(const std::string& what, const std::string& url);

// Nanoseconds since the Unix epoch now.
uint64_t unix_now_ns();

}  // namespace stratus::observe

#include "observe/otlp/config.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace stratus::observe {

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

namespace {

// OTEL_RESOURCE_ATTRIBUTES values are percent-encoded (W3C Baggage's rules).
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string with_path(std::string base, const char* path) {
  if (base.back() != '/') base += '/';
  return base + path;
}

struct SignalNames {
  const char* exporter;  // OTEL_TRACES_EXPORTER
  const char* endpoint;  // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  const char* protocol;  // OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
  const char* path;      // v1/traces
  const char* noun;      // traces
};

}  // namespace

Result<HttpUrl> parse_http_url(const std::string& what, const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    return make_error(what + " '" + url + "': https is not supported (yet): use an http:// collector endpoint");
  if (url.rfind(scheme, 0) != 0) return make_error(what + " '" + url + "': expected http://HOST[:PORT][/PATH]");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  HttpUrl u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return make_error(what + " '" + url + "': an IPv6 address without its ]");
    u.host = authority.substr(1, close - 1);
    colon = authority.find(':', close);
  } else {
    u.host = authority.substr(0, colon);
  }
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (u.host.empty()) return make_error(what + " '" + url + "': no host");
  if (u.port.empty() || u.port.size() > 5 || u.port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(u.port) > 65535)
    return make_error(what + " '" + url + "': the port must be a number from 0 to 65535");
  return u;
}

Result<std::optional<OtlpConfig>> otlp_config(const std::string& flag,
                                              const std::function<const char*(const char*)>& env_fn) {
  auto env = [&](const char* name) -> std::string {
    const char* v = env_fn ? env_fn(name) : std::getenv(name);
    return v != nullptr ? trim(v) : std::string();
  };
  std::string base = env("OTEL_EXPORTER_OTLP_ENDPOINT");
  std::string base_protocol = env("OTEL_EXPORTER_OTLP_PROTOCOL");
  // The signal's URL (empty: not exported) and encoding.
  auto signal = [&](const SignalNames& n) -> Result<OtlpSignal> {
    OtlpSignal s;
    std::string exporter = env(n.exporter);
    if (exporter == "none") return s;
    if (!exporter.empty() && exporter != "otlp")
      return make_error(std::string(n.exporter) + " '" + exporter + "': stratus exports " + n.noun +
                        " with otlp (or none)");
    std::string what;
    if (!flag.empty()) {
      s.url = with_path(flag, n.path);
      what = "--otlp-endpoint";
    } else if (std::string own = env(n.endpoint); !own.empty()) {
      s.url = own;
      what = n.endpoint;
    } else if (!base.empty()) {
      s.url = with_path(base, n.path);
      what = "OTEL_EXPORTER_OTLP_ENDPOINT";
    } else {
      return s;
    }
    STRATUS_TRY(parse_http_url(what, s.url));
    std::string protocol = env(n.protocol);
    const char* protocol_name = n.protocol;
    if (protocol.empty()) {
      protocol = base_protocol;
      protocol_name = "OTEL_EXPORTER_OTLP_PROTOCOL";
    }
    if (protocol == "http/json") {
      s.encoding = OtlpEncoding::kJson;
    } else if (protocol == "grpc") {
      return make_error(std::string(protocol_name) +
                        " 'grpc': stratus does not speak OTLP/gRPC; use http/protobuf or http/json (port 4318)");
    } else if (!protocol.empty() && protocol != "http/protobuf") {
      return make_error(std::string(protocol_name) + " '" + protocol +
                        "': stratus sends http/protobuf (the default) or http/json");
    }
    return s;
  };
  OtlpConfig config;
  auto traces = signal({"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "v1/traces", "traces"});
  if (!traces) return std::move(traces).error();
  auto metrics = signal({"OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                         "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "v1/metrics", "metrics"});
  if (!metrics) return std::move(metrics).error();
  auto logs = signal({"OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
                      "v1/logs", "logs"});
  if (!logs) return std::move(logs).error();
  if (!*traces && !*metrics && !*logs) return std::optional<OtlpConfig>();
  config.traces_url = traces->url;
  config.traces_encoding = traces->encoding;
  config.metrics = *metrics;
  config.logs = *logs;

  if (std::string interval = env("OTEL_METRIC_EXPORT_INTERVAL"); !interval.empty()) {
    uint64_t ms = 0;
    auto [end, ec] = std::from_chars(interval.data(), interval.data() + interval.size(), ms);
    if (ec != std::errc() || end != interval.data() + interval.size() || ms == 0 || ms > 86'400'000)
      return make_error("OTEL_METRIC_EXPORT_INTERVAL '" + interval +
                        "': expected milliseconds, a whole number from 1 to 86400000");
    config.metric_interval = std::chrono::milliseconds(ms);
  }

  std::string service = "stratus";
  std::string attributes = env("OTEL_RESOURCE_ATTRIBUTES");
  size_t at = 0;
  while (at < attributes.size()) {
    size_t comma = attributes.find(',', at);
    std::string pair = attributes.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? attributes.size() : comma + 1;
    if (trim(pair).empty()) continue;
    auto eq = pair.find('=');
    auto key = trim(pair.substr(0, eq));
    auto value = eq == std::string::npos ? std::nullopt : percent_decode(trim(pair.substr(eq + 1)));
    if (key.empty() || !value)
      return make_error("OTEL_RESOURCE_ATTRIBUTES: '" + pair + "' is not KEY=VALUE (values percent-encoded)");
    if (key == "service.name")
      service = *value;
    else
      config.resource.emplace_back(key, *value);
  }
  if (std::string name = env("OTEL_SERVICE_NAME"); !name.empty()) service = name;
  config.resource.insert(config.resource.begin(), {"service.name", service});
  config.resource.emplace_back("telemetry.sdk.name", std::string("stratus"));
  config.resource.emplace_back("telemetry.sdk.language", std::string("cpp"));
  return std::optional<OtlpConfig>(std::move(config));
}

}  // namespace stratus::observe

// OTLP metrics and logs, the per-signal configuration and OTLP/JSON: each
// exporter posts to a receiver in the test, whose bodies are read back (the
// JSON ones with nlohmann's parser, an independent reader).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "observe/current_span.h"
#include "observe/otlp/exporter.h"
#include "observe/otlp/log_exporter.h"
#include "observe/otlp/metric_exporter.h"
#include "tests/observe/otlp_receiver.h"

namespace stratus::observe {
namespace {

using namespace std::chrono_literals;
using test_support::OtlpReceiver;

Result<std::optional<OtlpConfig>> config_with(const std::string& flag, std::map<std::string, std::string> vars) {
  return otlp_config(flag, [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(OtlpSignalsTest, EachSignalHasItsEndpointAndEncoding) {
  auto flag = config_with("http://127.0.0.1:4318", {});
  ASSERT_TRUE(flag && *flag);
  EXPECT_EQ((*flag)->metrics.url, "http://127.0.0.1:4318/v1/metrics");
  EXPECT_EQ((*flag)->logs.url, "http://127.0.0.1:4318/v1/logs");
  EXPECT_EQ((*flag)->metrics.encoding, OtlpEncoding::kProtobuf);
  EXPECT_EQ((*flag)->metric_interval, 60s);  // the specification's default

  auto own = config_with("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                              {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:9090/api/otlp"},
                              {"OTEL_LOGS_EXPORTER", "none"},
                              {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                              {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"},
                              {"OTEL_METRIC_EXPORT_INTERVAL", "250"}});
  ASSERT_TRUE(own && *own);
  EXPECT_EQ((*own)->traces_url, "http://c:4318/v1/traces");
  EXPECT_EQ((*own)->traces_encoding, OtlpEncoding::kJson);
  EXPECT_EQ((*own)->metrics.url, "http://m:9090/api/otlp");
  EXPECT_EQ((*own)->metrics.encoding, OtlpEncoding::kProtobuf);
  EXPECT_FALSE((*own)->logs);
  EXPECT_EQ((*own)->metric_interval, 250ms);

  auto none = config_with(
      "http://c:4318",
      {{"OTEL_TRACES_EXPORTER", "none"}, {"OTEL_METRICS_EXPORTER", "none"}, {"OTEL_LOGS_EXPORTER", "none"}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(OtlpSignalsTest, BadValuesAreClearErrors) {
  auto grpc = config_with("http://c:4317", {{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"}});
  ASSERT_FALSE(grpc);
  EXPECT_EQ(grpc.error().message,
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL 'grpc': stratus does not speak OTLP/gRPC; use http/protobuf or "
            "http/json (port 4318)");
  auto other = config_with("http://c:4318", {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml"}});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message,
            "OTEL_EXPORTER_OTLP_PROTOCOL 'http/xml': stratus sends http/protobuf (the default) or http/json");
  for (const char* bad : {"soon", "0", "-5", "10s"}) {
    auto interval = config_with("http://c:4318", {{"OTEL_METRIC_EXPORT_INTERVAL", bad}});
    ASSERT_FALSE(interval) << bad;
    EXPECT_EQ(interval.error().message, std::string("OTEL_METRIC_EXPORT_INTERVAL '") + bad +
                                            "': expected milliseconds, a whole number from 1 to 86400000");
  }
  auto exporter = config_with("http://c:4318", {{"OTEL_METRICS_EXPORTER", "prometheus"}});
  ASSERT_FALSE(exporter);
  EXPECT_EQ(exporter.error().message,
            "OTEL_METRICS_EXPORTER 'prometheus': stratus exports metrics with otlp (or none)");
}

TEST(OtelMetricNameTest, TheReverseOfThePrometheusExportersNames) {
  auto d = otel_metric_name("http_server_request_duration_seconds", false);
  EXPECT_EQ(d.name, "http.server.request.duration");
  EXPECT_EQ(d.unit, "s");
  EXPECT_EQ(otel_metric_name("http_server_active_requests", false).name, "http.server.active_requests");
  auto c = otel_metric_name("stratus_component_invocations_total", true);
  EXPECT_EQ(c.name, "stratus.component.invocations");
  EXPECT_EQ(c.unit, "");
  auto m = otel_metric_name("stratus_guest_memory_bytes", false);
  EXPECT_EQ(m.name, "stratus.guest.memory");
  EXPECT_EQ(m.unit, "By");
}

OtlpConfig config_for(const OtlpReceiver& receiver, OtlpEncoding encoding) {
  auto c = config_with(receiver.url(), {});
  OtlpConfig config = **c;
  config.traces_encoding = encoding;
  config.metrics.encoding = encoding;
  config.logs.encoding = encoding;
  config.interval = 50ms;
  config.metric_interval = 50ms;
  config.attempts = 1;
  return config;
}

const nlohmann::json* metric_named(const nlohmann::json& request, const std::string& name) {
  for (const auto& m : request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"])
    if (m["name"] == name) return &m;
  return nullptr;
}

TEST(MetricExporterTest, SendsTheRegistryPeriodicallyAsOtlpJson) {
  OtlpReceiver receiver;
  Registry registry;
  registry.counter("stratus_requests_total", "Requests.", {"http_route"}).with({"/a"}).add(3);
  registry.gauge("stratus_guest_memory_bytes", "Memory.").with({}).set(65536);
  registry.mirrored_counter("stratus_aot_compile_seconds_total", "Compile time.").with({}).set(1.5);
  auto& h = registry.histogram("http_server_request_duration_seconds", "Durations.", {"method"}, {0.5, 1});
  for (double v : {0.1, 0.1, 2.0}) h.with({"GET"}).observe(v);
  int collected = 0;
  registry.on_collect([&] { ++collected; });

  auto exporter = MetricExporter::start(config_for(receiver, OtlpEncoding::kJson), registry);
  ASSERT_TRUE(exporter);
  auto posts = receiver.posts("/v1/metrics", 2, 5s);  // periodically: at least twice
  ASSERT_GE(posts.size(), 2u);
  EXPECT_EQ(posts[0].content_type, "application/json");
  auto j = nlohmann::json::parse(posts[0].body);
  EXPECT_EQ(j["resourceMetrics"][0]["resource"]["attributes"][0]["key"], "service.name");

  const auto* counter = metric_named(j, "stratus.requests");
  ASSERT_NE(counter, nullptr) << j.dump(1);
  EXPECT_EQ((*counter)["sum"]["isMonotonic"], true);
  EXPECT_EQ((*counter)["sum"]["aggregationTemporality"], 2);  // cumulative, as an integer
  const auto& point = (*counter)["sum"]["dataPoints"][0];
  EXPECT_EQ(point["asInt"], "3");                          // 64-bit integers are strings in JSON
  EXPECT_EQ(point["attributes"][0]["key"], "http.route");  // the label name as OpenTelemetry spells it
  EXPECT_EQ(point["attributes"][0]["value"]["stringValue"], "/a");
  EXPECT_TRUE(point["startTimeUnixNano"].is_string());
  EXPECT_TRUE(point["timeUnixNano"].is_string());

  const auto* gauge = metric_named(j, "stratus.guest.memory");
  ASSERT_NE(gauge, nullptr);
  EXPECT_EQ((*gauge)["unit"], "By");
  EXPECT_EQ((*gauge)["gauge"]["dataPoints"][0]["asDouble"], 65536);

  const auto* mirrored = metric_named(j, "stratus.aot.compile");
  ASSERT_NE(mirrored, nullptr);
  EXPECT_EQ((*mirrored)["sum"]["dataPoints"][0]["asDouble"], 1.5);

  const auto* histogram = metric_named(j, "http.server.request.duration");
  ASSERT_NE(histogram, nullptr);
  EXPECT_EQ((*histogram)["unit"], "s");
  EXPECT_EQ((*histogram)["description"], "Durations.");
  const auto& hp = (*histogram)["histogram"]["dataPoints"][0];
  EXPECT_EQ(hp["count"], "3");
  EXPECT_DOUBLE_EQ(hp["sum"].get<double>(), 2.2);
  EXPECT_EQ(hp["bucketCounts"], nlohmann::json({"2", "0", "1"}));  // per bucket, not cumulative
  EXPECT_EQ(hp["explicitBounds"], nlohmann::json({0.5, 1}));
  EXPECT_GE(collected, 2);  // the collectors ran before each export
}

TEST(MetricExporterTest, ProtobufByDefault) {
  OtlpReceiver receiver;
  Registry registry;
  registry.counter("stratus_requests_total", "Requests.").with({}).add(1);
  {
    auto exporter = MetricExporter::start(config_for(receiver, OtlpEncoding::kProtobuf), registry);
    ASSERT_TRUE(exporter);
  }  // the last export on the way out
  auto posts = receiver.posts("/v1/metrics", 1, 5s);
  ASSERT_FALSE(posts.empty());
  EXPECT_EQ(posts[0].content_type, "application/x-protobuf");
  EXPECT_NE(posts[0].body.find("stratus.requests"), std::string::npos);
}

TEST(TraceExporterTest, OtlpJsonSpansHaveHexIds) {
  OtlpReceiver receiver;
  auto parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(parent);
  {
    auto exporter = TraceExporter::start(config_for(receiver, OtlpEncoding::kJson));
    ASSERT_TRUE(exporter);
    SpanData span;
    span.trace_id = parent->trace_id;
    span.parent = parent->span_id;
    span.span_id = SpanId{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    span.name = "GET /";
    span.kind = SpanKind::kServer;
    span.start_unix_ns = 1'700'000'000'000'000'000;
    span.end_unix_ns = span.start_unix_ns + 5;
    span.attributes.emplace_back("http.response.status_code", int64_t{200});
    (*exporter)->submit(span);
  }
  auto posts = receiver.posts("/v1/traces", 1, 5s);
  ASSERT_FALSE(posts.empty());
  EXPECT_EQ(posts[0].content_type, "application/json");
  auto j = nlohmann::json::parse(posts[0].body);
  const auto& s = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(s["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736") << j.dump(1);
  EXPECT_EQ(s["parentSpanId"], "00f067aa0ba902b7");
  EXPECT_EQ(s["spanId"], "fedcba9876543210");
  EXPECT_EQ(s["kind"], 2);
  EXPECT_EQ(s["startTimeUnixNano"], "1700000000000000000");
  EXPECT_EQ(s["endTimeUnixNano"], "1700000000000000005");
  EXPECT_EQ(s["attributes"][0]["value"]["intValue"], "200");
}

TEST(LogExporterTest, RecordsReachTheCollectorWithTheirSpan) {
  OtlpReceiver receiver;
  auto parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(parent);
  {
    auto exporter = LogExporter::start(config_for(receiver, OtlpEncoding::kJson));
    ASSERT_TRUE(exporter);
    LogData record;
    record.time_unix_ns = 1'700'000'000'000'000'000;
    record.severity_number = static_cast<int32_t>(Severity::kWarn);
    record.severity_text = "warn";
    record.body = "visit 3";
    record.attributes.emplace_back("stratus.workload", std::string("examples/counter"));
    record.trace_id = parent->trace_id;
    record.span_id = parent->span_id;
    record.trace_flags = 1;
    (*exporter)->submit(record);
  }
  auto posts = receiver.posts("/v1/logs", 1, 5s);
  ASSERT_FALSE(posts.empty());
  EXPECT_EQ(posts[0].content_type, "application/json");
  auto j = nlohmann::json::parse(posts[0].body);
  const auto& r = j["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
  EXPECT_EQ(r["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736") << j.dump(1);
  EXPECT_EQ(r["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(r["severityNumber"], 13);
  EXPECT_EQ(r["severityText"], "warn");
  EXPECT_EQ(r["body"]["stringValue"], "visit 3");
  EXPECT_EQ(r["flags"], 1);
  EXPECT_EQ(r["timeUnixNano"], "1700000000000000000");
  EXPECT_EQ(r["attributes"][0]["key"], "stratus.workload");
}

TEST(LogExporterTest, AFullQueueDropsRecordsAndNeverWaits) {
  auto c = config_with("http://127.0.0.1:1", {});  // nothing listens on port 1
  OtlpConfig config = **c;
  config.max_queue = 4;
  config.interval = 10s;  // nothing is sent while the test submits
  config.attempts = 1;
  auto exporter = LogExporter::start(config);
  ASSERT_TRUE(exporter);
  (*exporter)->set_log([](const std::string&) {});
  auto began = std::chrono::steady_clock::now();
  LogData line;
  line.body = "line";
  for (int i = 0; i < 100; ++i) (*exporter)->submit(line);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
  EXPECT_EQ((*exporter)->dropped(), 96u);
  exporter->reset();  // one attempt at the four, which fails: no wait past it
}

TEST(CurrentSpanTest, TheContextLogRecordsCarryIsTheCurrentScopes) {
  EXPECT_EQ(current_span(), nullptr);
  TraceScope outer{nullptr, {new_trace_id(), new_span_id(), 1, {}}};
  {
    CurrentSpan a(&outer);
    EXPECT_EQ(current_span(), &outer.context);
    TraceScope inner{nullptr, {outer.context.trace_id, new_span_id(), 1, {}}};
    {
      CurrentSpan b(&inner);
      EXPECT_EQ(current_span(), &inner.context);
      std::thread([] { EXPECT_EQ(current_span(), nullptr); }).join();  // per thread
    }
    EXPECT_EQ(current_span(), &outer.context);
  }
  EXPECT_EQ(current_span(), nullptr);
}

}  // namespace
}  // namespace stratus::observe

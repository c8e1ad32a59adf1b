// W3C traceparent parsing and the OTLP exporter's configuration from the
// flag and the OTEL_* variables.
#include <gtest/gtest.h>

#include <map>

#include "observe/current_span.h"
#include "observe/otlp/exporter.h"
#include "observe/trace_context.h"

namespace stratus::observe {
namespace {

TEST(TraceContextTest, ParsesAndFormatsTraceparent) {
  auto c = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(c);
  EXPECT_EQ(to_hex(c->trace_id.data(), 16), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(c->span_id.data(), 8), "00f067aa0ba902b7");
  EXPECT_EQ(c->flags, 1);
  EXPECT_EQ(format_traceparent(*c), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  // A later version may carry more fields.
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

TEST(TraceContextTest, RefusesWhatTheSpecificationSaysToIgnore) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",          // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",       // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",       // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",       // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",       // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more",  // version 00 is exact
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
       }) {
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  }
}

TEST(TraceContextTest, NewIdsAreNotZeroAndDiffer) {
  auto a = new_trace_id(), b = new_trace_id();
  EXPECT_NE(a, TraceId{});
  EXPECT_NE(a, b);
  EXPECT_NE(new_span_id(), SpanId{});
}

Result<std::optional<OtlpConfig>> config_with(const std::string& flag, std::map<std::string, std::string> vars) {
  return otlp_config(flag, [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string attribute(const OtlpConfig& c, const std::string& key) {
  for (const auto& [k, v] : c.resource)
    if (k == key) return std::get<std::string>(v);
  return "(none)";
}

TEST(OtlpConfigTest, FlagAndVariables) {
  auto none = config_with("", {});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  auto flag = config_with("http://127.0.0.1:4318", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://elsewhere:1"}});
  ASSERT_TRUE(flag && *flag);
  EXPECT_EQ((*flag)->traces_url, "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(attribute(**flag, "service.name"), "stratus");

  auto base = config_with("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/otlp/"},
                               {"OTEL_SERVICE_NAME", "shop"},
                               {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod, team=a%2Cb"}});
  ASSERT_TRUE(base && *base);
  EXPECT_EQ((*base)->traces_url, "http://collector:4318/otlp/v1/traces");
  EXPECT_EQ(attribute(**base, "service.name"), "shop");
  EXPECT_EQ(attribute(**base, "deployment.environment"), "prod");
  EXPECT_EQ(attribute(**base, "team"), "a,b");

  auto traces = config_with("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                                 {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/custom"}});
  ASSERT_TRUE(traces && *traces);
  EXPECT_EQ((*traces)->traces_url, "http://tempo:4318/custom");

  auto off =
      config_with("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}, {"OTEL_TRACES_EXPORTER", "none"}});
  ASSERT_TRUE(off && *off);  // metrics and logs still go
  EXPECT_EQ((*off)->traces_url, "");
}

TEST(OtlpConfigTest, BadValuesAreClearErrors) {
  auto https = config_with("https://collector:4318", {});
  ASSERT_FALSE(https);
  EXPECT_EQ(https.error().message,
            "--otlp-endpoint 'https://collector:4318/v1/traces': https is not supported (yet): use an http:// "
            "collector endpoint");
  auto port = config_with("", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:99999"}});
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().message,
            "OTEL_EXPORTER_OTLP_ENDPOINT 'http://collector:99999/v1/traces': the port must be a number from 0 to "
            "65535");
  auto grpc = config_with("http://c:4317", {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}});
  ASSERT_FALSE(grpc);
  EXPECT_EQ(grpc.error().message,
            "OTEL_EXPORTER_OTLP_PROTOCOL 'grpc': stratus does not speak OTLP/gRPC; use http/protobuf or http/json "
            "(port 4318)");
  auto attrs = config_with("http://c:4318", {{"OTEL_RESOURCE_ATTRIBUTES", "a=1,broken"}});
  ASSERT_FALSE(attrs);
  EXPECT_EQ(attrs.error().message, "OTEL_RESOURCE_ATTRIBUTES: 'broken' is not KEY=VALUE (values percent-encoded)");
}

TEST(TraceExporterTest, ACollectorThatIsGoneCostsDroppedSpansNotABlockedCaller) {
  OtlpConfig config;
  config.traces_url = "http://127.0.0.1:1/v1/traces";  // nothing listens on port 1
  config.max_queue = 4;
  config.interval = std::chrono::milliseconds(50);
  config.attempts = 1;
  auto exporter = TraceExporter::start(config);
  ASSERT_TRUE(exporter);
  std::vector<std::string> lines;
  std::mutex mu;
  (*exporter)->set_log([&](const std::string& l) {
    std::lock_guard lock(mu);
    lines.push_back(l);
  });
  for (int i = 0; i < 10; ++i) (*exporter)->submit(SpanData{});
  exporter->reset();  // one last attempt, then it stops
  EXPECT_EQ(lines.size(), 1u);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("cannot send"), std::string::npos) << lines[0];
}

// An exporter whose collector is gone (port 1): spans are made, queued,
// and dropped at the end without a word.
std::unique_ptr<TraceExporter> quiet_exporter() {
  OtlpConfig config;
  config.traces_url = "http://127.0.0.1:1/v1/traces";
  config.attempts = 1;
  auto exporter = TraceExporter::start(config);
  if (!exporter) return nullptr;
  (*exporter)->set_log([](const std::string&) {});
  return std::move(*exporter);
}

TEST(CurrentSpanTest, ChildrenNestUnderTheCurrentScopeAndNothingIsMadeWithoutOne) {
  auto exporter = quiet_exporter();
  ASSERT_TRUE(exporter);
  EXPECT_EQ(current_scope(), nullptr);
  EXPECT_FALSE(Span::child("orphan", SpanKind::kInternal).active());

  auto request = Span::continuing(exporter.get(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=1",
                                  "request", SpanKind::kServer);
  ASSERT_TRUE(request.active());
  EXPECT_EQ(to_hex(request.data().trace_id.data(), 16), "0af7651916cd43dd8448eb211c80319c");
  ASSERT_TRUE(request.data().parent);
  EXPECT_EQ(to_hex(request.data().parent->data(), 8), "b7ad6b7169203331");
  EXPECT_EQ(request.data().trace_state, "vendor=1");
  {
    CurrentSpan in_request(request.scope());
    auto call = Span::child("call", SpanKind::kInternal);
    ASSERT_TRUE(call.active());
    EXPECT_EQ(call.data().trace_id, request.data().trace_id);
    EXPECT_EQ(call.data().parent, request.data().span_id);
    EXPECT_EQ(call.data().trace_state, "vendor=1");
    {
      CurrentSpan in_call(call.scope());
      auto kv = Span::child("get", SpanKind::kClient);
      EXPECT_EQ(kv.data().parent, call.data().span_id);
      kv.fail("boom", "_OTHER");
      EXPECT_TRUE(kv.data().error);
    }
    EXPECT_EQ(current_scope(), request.scope());
  }
  EXPECT_EQ(current_scope(), nullptr);

  // A bad traceparent starts a trace of its own, without a parent.
  auto fresh = Span::continuing(exporter.get(), "not a traceparent", "", "message", SpanKind::kConsumer);
  ASSERT_TRUE(fresh.active());
  EXPECT_FALSE(fresh.data().parent);
  EXPECT_NE(fresh.data().trace_id, request.data().trace_id);
  EXPECT_FALSE(Span::continuing(nullptr, "", "", "none", SpanKind::kConsumer).active());
}

}  // namespace
}  // namespace stratus::observe

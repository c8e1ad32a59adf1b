// `stratus host --metrics-addr --otlp-endpoint` end to end: a real
// `nats-server`, the example workload started over NATS as the operator
// starts it, an OTLP receiver in the test (JSON encoding, to read the
// ids), and the host's NATS connection seen going away and coming back on
// /metrics and in its log records.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "tests/lattice/nats_operator.h"
#include "tests/observe/otlp_receiver.h"
#include "tests/support/http_get.h"
#include "tests/support/scoped_env.h"
#include "tests/support/temp_dir.h"

namespace stratus::lattice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::free_loopback_port;
using test_support::Operator;
using test_support::OtlpReceiver;
using test_support::ServerProcess;
using test_support::start_body;
using test_support::start_nats;
namespace v2 = wasmcloud::runtime::v2;

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::string get_body(uint16_t port, const std::string& target) {
  try {
    return testing::http_get(port, target).body();
  } catch (const std::exception& e) {
    return std::string("(no answer: ") + e.what() + ")";
  }
}

// /metrics once it has every line of `want`, or the last one read in 10 s.
std::string metrics_with(uint16_t port, const std::vector<std::string>& want) {
  std::string body;
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    body = get_body(port, "/metrics");
    bool all = true;
    for (const auto& w : want) all = all && has(body, w);
    if (all) break;
  }
  return body;
}

// A log record whose body is `text`, in the OTLP/JSON posts to /v1/logs.
std::optional<nlohmann::json> log_record(OtlpReceiver& receiver, const std::string& text) {
  std::optional<nlohmann::json> found;
  receiver.wait_for("/v1/logs", 10s, [&](const OtlpReceiver::Post& p) {
    auto j = nlohmann::json::parse(p.body);
    for (const auto& r : j["resourceLogs"][0]["scopeLogs"][0]["logRecords"])
      if (r["body"]["stringValue"] == text) found = r;
    return found.has_value();
  });
  return found;
}

std::string state_line(const std::string& state, int value) {
  return "stratus_nats_connection_state{connection=\"host\",state=\"" + state + "\"} " + std::to_string(value) + "\n";
}

TEST(StratusHostObserveTest, AHostsWorkloadsAndNatsConnectionAreObserved) {
  test_support::TempDir dir("stratus-host-observe");
  uint16_t nats_port = free_loopback_port();
  auto nats = start_nats(nats_port, dir.path());
  ASSERT_TRUE(nats->running()) << "nats-server did not start (./x deps installs it)";
  Operator op(nats_port);
  ASSERT_TRUE(op.ok());
  OtlpReceiver receiver;
  test_support::ScopedEnv env({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, {"OTEL_METRIC_EXPORT_INTERVAL", "200"}});

  uint16_t http_port = free_loopback_port(), metrics_port = free_loopback_port();
  auto log = dir.path() / "host.log";
  // Ready once its listener on --metrics-addr answers (after NATS connected).
  ServerProcess host({STRATUS_BINARY, "host", "--nats", "nats://127.0.0.1:" + std::to_string(nats_port), "--host-id",
                      "obs1", "--http-addr", "127.0.0.1:" + std::to_string(http_port), "--metrics-addr",
                      "127.0.0.1:" + std::to_string(metrics_port), "--otlp-endpoint", receiver.url(), "--engine",
                      "interp", "--data-dir", (dir.path() / "data").string(), "--heartbeat-interval", "300ms"},
                     metrics_port, log.string());
  ASSERT_TRUE(host.running()) << test_support::read_text(log);
  std::string said = test_support::read_text(log);
  EXPECT_TRUE(has(said, "stratus host: spans to " + receiver.url() + "/v1/traces")) << said;
  EXPECT_TRUE(has(said, "stratus host: metrics on http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"))
      << said;

  auto started = op.call("obs1", "workload.start", start_body("uid-obs"));
  ASSERT_EQ(started.workload_state(), v2::WORKLOAD_STATE_RUNNING) << started.message();
  ASSERT_EQ(testing::get_with_traceparent(http_port), 200) << test_support::read_text(log);

  // The request's server span, under the trace it came with.
  nlohmann::json server;
  EXPECT_TRUE(receiver.wait_for("/v1/traces", 10s,
                                [&](const OtlpReceiver::Post& p) {
                                  auto j = nlohmann::json::parse(p.body);
                                  for (const auto& s : j["resourceSpans"][0]["scopeSpans"][0]["spans"])
                                    if (s["kind"] == 2) server = s;
                                  return !server.is_null();
                                }))
      << "no server span\n"
      << test_support::read_text(log);
  EXPECT_EQ(server["traceId"], "737472617475732d74726163652d6964") << server.dump(1);
  bool workload_attribute = false;
  for (const auto& a : server["attributes"])
    if (a["key"] == "stratus.workload") workload_attribute = a["value"]["stringValue"] == "lattice/hello";
  EXPECT_TRUE(workload_attribute) << server.dump(1);

  // The request on /metrics, and the connection connected.
  auto metrics = metrics_with(metrics_port, {"http_server_request_duration_seconds_count{http_request_method=\"GET\","
                                             "http_response_status_code=\"200\",http_route=\"/\",workload=\"lattice/"
                                             "hello\"} 1\n",
                                             state_line("connected", 1), state_line("reconnecting", 0),
                                             "stratus_nats_reconnects_total{connection=\"host\"} 0\n"});
  EXPECT_TRUE(has(metrics, "workload=\"lattice/hello\"} 1\n")) << metrics;
  EXPECT_TRUE(has(metrics, state_line("connected", 1))) << metrics;
  EXPECT_TRUE(has(metrics, "stratus_nats_reconnects_total{connection=\"host\"} 0\n")) << metrics;
  // And over OTLP, under OpenTelemetry's name.
  EXPECT_TRUE(receiver.wait_for("/v1/metrics", 10s, [](const OtlpReceiver::Post& p) {
    return has(p.body, "\"stratus.nats.connection.state\"");
  })) << "no stratus.nats.connection.state over OTLP";

  // The status page: the workload, its state and its route.
  auto status = nlohmann::json::parse(get_body(metrics_port, "/status.json"), nullptr, false);
  ASSERT_FALSE(status.is_discarded());
  EXPECT_EQ(status["host"]["command"], "stratus host") << status.dump(1);
  ASSERT_EQ(status["workloads"].size(), 1U) << status.dump(1);
  EXPECT_EQ(status["workloads"][0]["id"], "lattice/hello");
  EXPECT_EQ(status["workloads"][0]["state"], "RUNNING");
  EXPECT_EQ(status["workloads"][0]["routes"][0]["requests_last_minute"], 1) << status.dump(1);
  EXPECT_TRUE(has(get_body(metrics_port, "/"), "/status.json")) << "the status page draws /status.json";

  // A request the host protocol has not: a warning, as a WARN log record.
  EXPECT_TRUE(op.request("runtime.host.obs1.bogus", "{}", 300).empty());
  auto bogus = log_record(receiver, "request on runtime.host.obs1.bogus: the host protocol has no `bogus`");
  ASSERT_TRUE(bogus) << test_support::read_text(log);
  EXPECT_EQ((*bogus)["severityNumber"], 13) << bogus->dump(1);
  EXPECT_EQ((*bogus)["severityText"], "WARN") << bogus->dump(1);

  // NATS goes away: the gauge says so; it comes back: connected again,
  // one reconnection counted. The host's lines about it are WARN and INFO.
  nats->stop();
  metrics = metrics_with(metrics_port, {state_line("connected", 0)});
  EXPECT_TRUE(has(metrics, state_line("connected", 0))) << metrics;
  EXPECT_TRUE(has(metrics, state_line("reconnecting", 1)) || has(metrics, state_line("disconnected", 1))) << metrics;
  EXPECT_EQ(testing::http_get(http_port, "/").result_int(), 200) << "HTTP is served while NATS is away";
  nats = start_nats(nats_port, dir.path());
  ASSERT_TRUE(nats->running());
  metrics = metrics_with(metrics_port,
                         {state_line("connected", 1), "stratus_nats_reconnects_total{connection=\"host\"} 1\n"});
  EXPECT_TRUE(has(metrics, state_line("connected", 1))) << metrics;
  EXPECT_TRUE(has(metrics, state_line("reconnecting", 0))) << metrics;
  EXPECT_TRUE(has(metrics, "stratus_nats_reconnects_total{connection=\"host\"} 1\n")) << metrics;

  auto lost = log_record(receiver, "NATS connection lost; reconnecting (workloads keep serving)");
  ASSERT_TRUE(lost) << test_support::read_text(log);
  EXPECT_EQ((*lost)["severityNumber"], 13) << lost->dump(1);
  auto back = log_record(receiver, "NATS reconnected");
  ASSERT_TRUE(back) << test_support::read_text(log);
  EXPECT_EQ((*back)["severityNumber"], 9) << back->dump(1);
  EXPECT_EQ((*back)["severityText"], "INFO") << back->dump(1);
}

}  // namespace
}  // namespace stratus::lattice

// wasmcloud:messaging in workloads: a handler component (guests/echo) gets
// the messages of its workload's subscriptions, replies and publishes
// through the consumer interface, on the host's in-process broker and on a
// real nats-server the test starts.
#include <condition_variable>

#include "observe/otlp/exporter.h"
#include "observe/trace_context.h"
#include "plugins/message_broker.h"
#include "tests/support/server_process.h"
#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

using test_host::WorkloadRuntimeTest;

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

class MessagingWorkloadTest : public WorkloadRuntimeTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    // Spans on (to a collector that is gone: they are dropped), so that a
    // handler's invocation continues its message's trace.
    observe::OtlpConfig config;
    config.traces_url = "http://127.0.0.1:1/v1/traces";
    config.attempts = 1;
    auto exporter = observe::TraceExporter::start(config);
    ASSERT_TRUE(exporter);
    (*exporter)->set_log([](const std::string&) {});
    traces_ = std::move(*exporter);
    WorkloadRuntimeTest::SetUp();
    std::string backend_config;
    if (GetParam() == "nats") {
      uint16_t port = test_support::free_loopback_port();
      nats_ = std::make_unique<test_support::ServerProcess>(
          std::vector<std::string>{"nats-server", "-a", "127.0.0.1", "-p", std::to_string(port)}, port);
      ASSERT_TRUE(nats_->running()) << "nats-server did not start (./x deps installs it)";
      std::string url = "nats://127.0.0.1:" + std::to_string(port);
      backend_config = "backend: nats, url: \"" + url + "\", ";
      auto client = plugins::open_nats_broker(url);
      ASSERT_TRUE(client) << client.error().message;
      client_ = std::move(*client);
    }
    std::string y = "namespace: test\nname: echo\nwit_world:\n  components:\n    - name: echo\n      image: " +
                    std::string(STRATUS_ECHO_COMPONENT) +
                    "\n      max_concurrency: 4\n  host_interfaces:\n"
                    "    - {namespace: wasmcloud, package: messaging, version: 0.2.0, interfaces: [consumer, "
                    "handler], config: {" +
                    backend_config + "subscriptions: \"echo.>, fwd.*\"}}\n";
    auto id = start(y);
    ASSERT_TRUE(id) << id.error().message;
    if (!client_) client_ = host_->broker();
  }
  void TearDown() override {
    client_.reset();
    WorkloadRuntimeTest::TearDown();
    nats_.reset();
  }

  std::unique_ptr<test_support::ServerProcess> nats_;
  std::shared_ptr<plugins::MessageBroker> client_;  // the test's side of the broker
};

// The handler's invocation continues the trace its message carries (a
// NATS header, or the in-process message's own), and what it publishes
// carries its publish span's context in that trace.
TEST_P(MessagingWorkloadTest, AHandlersInvocationContinuesTheMessagesTrace) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<plugins::Message> seen;
  auto sub = client_->subscribe("out.>", [&](plugins::Message m) {
    std::lock_guard lock(mu);
    seen.push_back(std::move(m));
    cv.notify_all();
  });
  ASSERT_TRUE(sub) << sub.error().message;
  const std::string trace = "0af7651916cd43dd8448eb211c80319c", parent = "b7ad6b7169203331";
  ASSERT_TRUE(client_->publish({"fwd.traced", bytes("t"), std::nullopt, "00-" + trace + "-" + parent + "-01", "v=1"}));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !seen.empty(); }));
  EXPECT_EQ(seen[0].subject, "out.traced");
  auto sent = observe::parse_traceparent(seen[0].traceparent);
  ASSERT_TRUE(sent) << "'" << seen[0].traceparent << "'";
  EXPECT_EQ(observe::to_hex(sent->trace_id.data(), 16), trace);
  EXPECT_NE(observe::to_hex(sent->span_id.data(), 8), parent);
  EXPECT_EQ(seen[0].tracestate, "v=1");
}

TEST_P(MessagingWorkloadTest, AHandlerRepliesToARequest) {
  auto reply = client_->request("echo.hi", bytes("hello"), std::chrono::seconds(10));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(text(reply->body), "echo: hello");
  auto none = client_->request("nobody.here", bytes("x"), std::chrono::seconds(2));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no one subscribes to nobody.here"), std::string::npos) << none.error().message;
}

TEST_P(MessagingWorkloadTest, AHandlerPublishesAndRequestsItself) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  auto sub = client_->subscribe("out.>", [&](plugins::Message m) {
    std::lock_guard lock(mu);
    seen.push_back(m.subject + " " + text(m.body));
    cv.notify_all();
  });
  ASSERT_TRUE(sub) << sub.error().message;
  ASSERT_TRUE(client_->publish({"fwd.orders", bytes("order 1"), std::nullopt}));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !seen.empty(); }));
    EXPECT_EQ(seen[0], "out.orders order 1");
  }
  // The handler's own request goes out through the broker and back in to
  // another instance of it (max_concurrency 4).
  auto nested = client_->request("echo.a", bytes("ask:echo.b"), std::chrono::seconds(10));
  ASSERT_TRUE(nested) << nested.error().message;
  EXPECT_EQ(text(nested->body), "asked: echo: from echo");
}

TEST_P(MessagingWorkloadTest, AFailingOrTrappingHandlerIsLoggedAndTheNextMessageIsServed) {
  ASSERT_TRUE(client_->publish({"echo.x", bytes("fail"), std::nullopt}));
  ASSERT_TRUE(client_->publish({"echo.x", bytes("trap"), std::nullopt}));
  EXPECT_TRUE(host_logged("test/echo/echo: handle-message on echo.x: asked to fail"));
  EXPECT_TRUE(host_logged("test/echo/echo: handle-message on echo.x: trap:"));
  auto reply = client_->request("echo.after", bytes("still here"), std::chrono::seconds(10));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(text(reply->body), "echo: still here");
}

INSTANTIATE_TEST_SUITE_P(Brokers, MessagingWorkloadTest, ::testing::Values("in-process", "nats"), [](const auto& info) {
  std::string n = info.param;
  n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
  return n;
});

}  // namespace
}  // namespace stratus::workload

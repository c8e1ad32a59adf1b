// The message brokers, each held to the same behaviour: in-process, and
// NATS against a real nats-server on a loopback port.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "plugins/message_broker.h"
#include "tests/support/server_process.h"

namespace stratus::plugins {
namespace {

using test_support::ServerProcess;

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// What a subscription received, waited for.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;  // "subject body"
  std::function<void(Message)> sink() {
    return [this](Message m) {
      std::lock_guard lock(mu);
      got.push_back(m.subject + " " + text(m.body));
      cv.notify_all();
    };
  }
  bool wait_for(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= n; });
  }
};

class BrokerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "inprocess") {
      broker_ = make_in_process_broker();
      return;
    }
    uint16_t port = test_support::free_loopback_port();
    nats_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"nats-server", "-a", "127.0.0.1", "-p", std::to_string(port)}, port);
    ASSERT_TRUE(nats_->running()) << "nats-server did not start (./x deps installs it)";
    auto b = open_nats_broker("nats://127.0.0.1:" + std::to_string(port));
    ASSERT_TRUE(b) << b.error().message;
    broker_ = std::move(*b);
  }
  void TearDown() override {
    broker_.reset();
    nats_.reset();
  }
  std::unique_ptr<ServerProcess> nats_;
  std::shared_ptr<MessageBroker> broker_;
};

TEST_P(BrokerTest, WildcardsRouteAndUnsubscribingStopsDelivery) {
  Inbox star, rest, exact;
  auto a = broker_->subscribe("orders.*.new", star.sink());
  auto b = broker_->subscribe("orders.>", rest.sink());
  auto c = broker_->subscribe("orders.eu.new", exact.sink());
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(broker_->publish({"orders.eu.new", bytes("1"), std::nullopt}));
  ASSERT_TRUE(broker_->publish({"orders.us.old", bytes("2"), std::nullopt}));
  ASSERT_TRUE(rest.wait_for(2));
  ASSERT_TRUE(star.wait_for(1));
  ASSERT_TRUE(exact.wait_for(1));
  c->reset();
  ASSERT_TRUE(broker_->publish({"orders.eu.new", bytes("3"), std::nullopt}));
  ASSERT_TRUE(star.wait_for(2));
  ASSERT_TRUE(rest.wait_for(3));
  std::lock_guard lock(exact.mu);
  EXPECT_EQ(exact.got, (std::vector<std::string>{"orders.eu.new 1"})) << "nothing after unsubscribing";
}

TEST_P(BrokerTest, AMessageCarriesItsTraceContext) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Message> got;
  auto sub = broker_->subscribe("traced.>", [&](Message m) {
    std::lock_guard lock(mu);
    got.push_back(std::move(m));
    cv.notify_all();
  });
  ASSERT_TRUE(sub);
  const std::string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  ASSERT_TRUE(broker_->publish({"traced.a", bytes("1"), std::nullopt, parent, "vendor=1"}));
  ASSERT_TRUE(broker_->publish({"traced.b", bytes("2"), std::nullopt}));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= 2; }));
  std::sort(got.begin(), got.end(), [](const Message& a, const Message& b) { return a.subject < b.subject; });
  EXPECT_EQ(got[0].traceparent, parent);
  EXPECT_EQ(got[0].tracestate, "vendor=1");
  EXPECT_EQ(got[1].traceparent, "");
  EXPECT_EQ(got[1].tracestate, "");
}

// A request carries its trace context to the responder as a publish does;
// one without any carries none.
TEST_P(BrokerTest, ARequestCarriesItsTraceContext) {
  auto responder = broker_->subscribe("traced.svc", [this](Message m) {
    if (m.reply_to) (void)broker_->publish({*m.reply_to, bytes(m.traceparent + "|" + m.tracestate), std::nullopt});
  });
  ASSERT_TRUE(responder);
  const std::string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  auto traced =
      broker_->request(Message{"traced.svc", bytes("x"), std::nullopt, parent, "vendor=1"}, std::chrono::seconds(5));
  ASSERT_TRUE(traced) << traced.error().message;
  EXPECT_EQ(text(traced->body), parent + "|vendor=1");
  auto plain = broker_->request("traced.svc", bytes("x"), std::chrono::seconds(5));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(text(plain->body), "|");
}

TEST_P(BrokerTest, RequestsGetTheirReplyOrAClearError) {
  auto responder = broker_->subscribe("svc.upper", [this](Message m) {
    std::string s = text(m.body);
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (m.reply_to) (void)broker_->publish({*m.reply_to, bytes(s), std::nullopt});
  });
  ASSERT_TRUE(responder);
  auto reply = broker_->request("svc.upper", bytes("shout"), std::chrono::seconds(5));
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(text(reply->body), "SHOUT");

  auto none = broker_->request("svc.none", bytes("x"), std::chrono::seconds(5));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no one subscribes to svc.none"), std::string::npos) << none.error().message;

  auto silent = broker_->subscribe("svc.silent", [](Message) {});
  ASSERT_TRUE(silent);
  auto late = broker_->request("svc.silent", bytes("x"), std::chrono::milliseconds(200));
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("no reply from svc.silent in 200 ms"), std::string::npos) << late.error().message;
}

TEST_P(BrokerTest, BadSubjectsAndBodiesAreRefused) {
  EXPECT_FALSE(broker_->publish({"a.*", bytes("x"), std::nullopt}));
  EXPECT_FALSE(broker_->publish({"", bytes("x"), std::nullopt}));
  EXPECT_FALSE(broker_->publish({"a b", bytes("x"), std::nullopt}));
  EXPECT_FALSE(broker_->publish({"ok", bytes("x"), std::string("bad reply")}));
  EXPECT_FALSE(broker_->publish({"ok", std::vector<uint8_t>(kMaxMessageBody + 1), std::nullopt}));
  EXPECT_FALSE(broker_->subscribe("a.>.b", [](Message) {}));
  EXPECT_FALSE(broker_->request("a.*", bytes("x"), std::chrono::seconds(1)));
}

INSTANTIATE_TEST_SUITE_P(Brokers, BrokerTest, ::testing::Values("inprocess", "nats"),
                         [](const auto& info) { return info.param; });

TEST(SubjectTest, TokensAndWildcards) {
  EXPECT_TRUE(valid_subject("a.b.c"));
  EXPECT_FALSE(valid_subject("a..b"));
  EXPECT_FALSE(valid_subject(".a"));
  EXPECT_FALSE(valid_subject("a.*"));
  EXPECT_TRUE(valid_subject("a.*", true));
  EXPECT_TRUE(valid_subject("a.>", true));
  EXPECT_FALSE(valid_subject("a.>.b", true));
  EXPECT_FALSE(valid_subject("a.b*", true));
  EXPECT_FALSE(valid_subject(std::string(2000, 'a')));
  EXPECT_TRUE(subject_matches("a.*.c", "a.b.c"));
  EXPECT_FALSE(subject_matches("a.*.c", "a.b.d"));
  EXPECT_FALSE(subject_matches("a.*", "a.b.c"));
  EXPECT_TRUE(subject_matches("a.>", "a.b.c"));
  EXPECT_FALSE(subject_matches("a.>", "a"));
  EXPECT_TRUE(subject_matches("a", "a"));
  EXPECT_FALSE(subject_matches("a.b", "a"));
}

TEST(NatsBrokerTest, AnAbsentServerOrABadUrlIsAClearError) {
  auto bad = open_nats_broker("http://127.0.0.1:4222");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("expected nats://HOST:PORT"), std::string::npos);
  uint16_t port = test_support::free_loopback_port();
  auto absent = open_nats_broker("nats://127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find("cannot connect"), std::string::npos) << absent.error().message;
}

}  // namespace
}  // namespace stratus::plugins

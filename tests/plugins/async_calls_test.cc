// The plugins called from async tasks (guests/async_caller.wat: a stackful
// async export per call, sync-lowered plugin imports, as a WASI 0.3 guest
// has them), on both backends: each family answers as it does for a WASI 0.2
// caller, a task waiting on a backend lets the other tasks of its store run,
// a backend's failure is the WIT error value, and a call still under way
// when its instance goes touches nothing of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "plugins/blobstore_fs.h"
#include "plugins/message_broker.h"
#include "plugins/plugins.h"
#include "tests/support/component_file.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_engine.h"

namespace stratus::plugins {
namespace {

using component::Val;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

enum Op : uint32_t { kRequest, kPublish, kSet, kGet, kIncrement, kConfigGet, kLog, kContainerExists };

std::vector<Val> args(Op op, const std::string& a, const std::string& b = "") {
  std::vector<Val> bytes;
  for (char c : b) bytes.push_back(Val::u8(static_cast<uint8_t>(c)));
  return {Val::u32(op), Val::string(a), Val::list(std::move(bytes))};
}

// What `call` returned: "ok:BYTES" or "err:TEXT" (a trap or an error: "trap:MESSAGE").
std::string outcome_text(const component::CallOutcome& o) {
  if (o.trapped()) return "trap:" + o.trap().message;
  if (o.failed()) return "trap:" + o.error().message;
  const auto& r = o.result();
  if (!r || r->payload() == nullptr) return "ok:";
  if (r->discriminant() == 1) return "err:" + r->payload()->as_string();
  std::string out = "ok:";
  for (const auto& b : r->payload()->items()) out += static_cast<char>(b.as_unsigned());
  return out;
}

uint64_t counter_of(const std::string& text) {
  uint64_t n = 0;
  if (text.size() == 3 + sizeof n) std::memcpy(&n, text.data() + 3, sizeof n);
  return n;
}

// A guest's instance with the plugins defined for it.
struct Guest {
  std::unique_ptr<wasi::p2::WasiHost> wasi;
  std::unique_ptr<component::Linker> linker;
  std::unique_ptr<InstanceState> state;
  std::shared_ptr<component::ComponentInstance> instance;
};

class PluginsFromAsyncTasksTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto made = testing::make_test_engine(GetParam(), STRATUS_TEST_CACHE_DIR);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    auto component = testing::read_component(STRATUS_ASYNC_CALLER);
    ASSERT_TRUE(component.ok()) << component.error().message;
    component_ = *component;
    broker_ = make_in_process_broker();
    blobs_ = std::make_shared<FsBlobStore>(dir_.path() / "blobs");
  }

  // The plugins of a workload asking for every family; keyvalue on
  // `keyvalue` (sqlite in the test's folder unless it says otherwise).
  void make_plugins(std::map<std::string, std::string> keyvalue = {}) {
    if (keyvalue.empty()) keyvalue = {{"path", (dir_.path() / "kv.sqlite").string()}};
    HostOptions options;
    options.data_dir = dir_.path() / "data";
    options.broker = broker_;
    options.log = [this](const LogRecord& r) {
      std::lock_guard lock(log_mu_);
      logged_.push_back(std::string(level_name(r.level)) + " " + std::string(r.context) + ": " +
                        std::string(r.message));
    };
    std::vector<InterfaceRequest> requests = {
        {"wasi", "keyvalue", "0.2.0-draft", {}, std::move(keyvalue), "host_interfaces[0]"},
        {"wasi", "config", "0.2.0-rc.1", {}, {}, "host_interfaces[1]"},
        {"wasi", "logging", "0.1.0-draft", {}, {}, "host_interfaces[2]"},
        {"wasmcloud", "messaging", "0.2.0", {}, {}, "host_interfaces[3]"},
        {"wasi", "blobstore", "0.2.0-draft", {}, {{"root", (dir_.path() / "blobs").string()}}, "host_interfaces[4]"},
    };
    auto p = HostPlugins::create(requests, std::move(options));
    ASSERT_TRUE(p) << p.error().message;
    plugins_ = std::move(*p);
  }

  Guest instantiate(milliseconds call_timeout = milliseconds(30'000)) {
    Guest g;
    g.wasi = std::make_unique<wasi::p2::WasiHost>(wasi::p2::WasiConfig{});
    g.linker = std::make_unique<component::Linker>(*engine_);
    auto added = g.wasi->add_to_linker(*g.linker);
    EXPECT_TRUE(added) << added.error().message;
    ComponentScope scope{"ns", "ns/app", "caller", {{"greeting", "hello"}}};
    auto state = plugins_->define(*g.linker, *g.wasi, scope);
    EXPECT_TRUE(state) << state.error().message;
    if (state) g.state = std::move(*state);
    component::InstantiateOptions options;
    options.limits.call_timeout = call_timeout;
    auto instance = g.linker->instantiate(component_, options);
    EXPECT_TRUE(instance.ok()) << instance.error().message;
    if (instance.ok()) g.instance = *instance;
    return g;
  }

  std::string call(Guest& g, Op op, const std::string& a, const std::string& b = "") {
    auto a_list = args(op, a, b);
    return outcome_text(g.instance->call("call", a_list));
  }

  std::vector<std::string> call_concurrent(Guest& g, const std::vector<std::vector<Val>>& list) {
    std::vector<std::string> out;
    for (const auto& o : g.instance->call_concurrent("call", list)) out.push_back(outcome_text(o));
    return out;
  }

  test_support::TempDir dir_{"stratus-plugins-async"};
  std::unique_ptr<engine::Engine> engine_;
  component::ComponentPtr component_;
  std::shared_ptr<MessageBroker> broker_;
  std::shared_ptr<FsBlobStore> blobs_;
  std::unique_ptr<HostPlugins> plugins_;
  std::mutex log_mu_;
  std::vector<std::string> logged_;
};

// Replies to requests on `subject` only once a message came on `go` (or
// after `patience` without one, with "no go").
class GatedResponder {
 public:
  GatedResponder(MessageBroker& broker, const std::string& subject, const std::string& go, milliseconds patience) {
    gate_ = broker.subscribe(go, [this](Message) {
      std::lock_guard lock(mu_);
      opened_ = true;
      cv_.notify_all();
    });
    responder_ = broker.subscribe(subject, [this, &broker, patience](Message m) {
      bool opened = false;
      {
        std::unique_lock lock(mu_);
        opened = cv_.wait_for(lock, patience, [this] { return opened_; });
      }
      std::string text = opened ? "after go" : "no go";
      if (m.reply_to) (void)broker.publish({*m.reply_to, {text.begin(), text.end()}, std::nullopt});
    });
  }
  bool ok() const { return gate_ && responder_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool opened_ = false;
  Result<std::unique_ptr<Subscription>> gate_ = make_error("");
  Result<std::unique_ptr<Subscription>> responder_ = make_error("");
};

// Issue 19: a task waiting on a backend (here a request whose reply needs
// what another task of the same store sends) must not hold the store's
// thread; before, the request waited out the responder's patience alone.
TEST_P(PluginsFromAsyncTasksTest, ATaskWaitingOnARequestLetsTheOtherTasksOfItsStoreRun) {
  make_plugins();
  GatedResponder responder(*broker_, "svc.gated", "svc.go", milliseconds(3000));
  ASSERT_TRUE(responder.ok());
  auto g = instantiate();
  auto start = Clock::now();
  auto out = call_concurrent(g, {args(kRequest, "svc.gated", "ping"), args(kPublish, "svc.go", "")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "ok:after go");
  EXPECT_EQ(out[1], "ok:");
  EXPECT_LT(Clock::now() - start, milliseconds(2500)) << "the request waited for the responder's patience";
}

TEST_P(PluginsFromAsyncTasksTest, KeyvalueAnswersAsyncTasksAndConcurrentIncrementsAllCount) {
  make_plugins();
  auto g = instantiate();
  EXPECT_EQ(call(g, kGet, "k"), "ok:") << "absent";
  EXPECT_EQ(call(g, kSet, "k", "value"), "ok:");
  EXPECT_EQ(call(g, kGet, "k"), "ok:value");
  EXPECT_EQ(counter_of(call(g, kIncrement, "n")), 1u);
  std::vector<std::vector<Val>> list(8, args(kIncrement, "n"));
  std::set<uint64_t> seen;
  for (const auto& o : call_concurrent(g, list)) seen.insert(counter_of(o));
  EXPECT_EQ(seen, (std::set<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(call(g, kIncrement, "k").rfind("err:", 0), 0u) << "not a number";
  // The same instance, called by a second instance of the workload: one store.
  auto other = instantiate();
  EXPECT_EQ(call(other, kGet, "k"), "ok:value");
}

TEST_P(PluginsFromAsyncTasksTest, ABackendThatFailsIsTheErrorValueNotATrap) {
  uint16_t port = test_support::free_loopback_port();
  auto redis = std::make_unique<test_support::ServerProcess>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"},
      port);
  ASSERT_TRUE(redis->running()) << "redis-server did not start (./x deps installs it)";
  make_plugins({{"backend", "redis"}, {"url", "redis://127.0.0.1:" + std::to_string(port)}});
  auto g = instantiate();
  EXPECT_EQ(call(g, kSet, "k", "v"), "ok:");
  EXPECT_EQ(call(g, kGet, "k"), "ok:v");
  redis.reset();  // the backend goes away under the workload
  auto out = call_concurrent(g, {args(kGet, "k"), args(kSet, "k", "w")});
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) EXPECT_EQ(o.rfind("err:", 0), 0u) << o;
  EXPECT_EQ(call(g, kConfigGet, "greeting"), "ok:hello") << "the instance goes on";
}

TEST_P(PluginsFromAsyncTasksTest, MessagingRequestsAndPublishesFromAsyncTasks) {
  make_plugins();
  auto upper = broker_->subscribe("svc.upper", [this](Message m) {
    std::string s(m.body.begin(), m.body.end());
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (m.reply_to) (void)broker_->publish({*m.reply_to, {s.begin(), s.end()}, std::nullopt});
  });
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  auto inbox = broker_->subscribe("events.>", [&](Message m) {
    std::lock_guard lock(mu);
    got.push_back(m.subject + " " + std::string(m.body.begin(), m.body.end()));
    cv.notify_all();
  });
  ASSERT_TRUE(upper && inbox);
  auto g = instantiate();
  auto out = call_concurrent(g, {args(kRequest, "svc.upper", "one"), args(kRequest, "svc.upper", "two"),
                                 args(kPublish, "events.a", "hi"), args(kRequest, "svc.nobody", "x")});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], "ok:ONE");
  EXPECT_EQ(out[1], "ok:TWO");
  EXPECT_EQ(out[2], "ok:");
  EXPECT_EQ(out[3].rfind("err:", 0), 0u) << out[3];
  EXPECT_NE(out[3].find("no one subscribes to svc.nobody"), std::string::npos) << out[3];
  EXPECT_EQ(call(g, kPublish, "bad.*", "x").rfind("err:", 0), 0u) << "a wildcard is refused as a value";
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !got.empty(); }));
  EXPECT_EQ(got.front(), "events.a hi");
}

TEST_P(PluginsFromAsyncTasksTest, ConfigLoggingAndBlobstoreAnswerAsyncTasks) {
  make_plugins();
  ASSERT_TRUE(blobs_->create_container("photos"));
  auto g = instantiate();
  auto out = call_concurrent(g, {args(kConfigGet, "greeting"), args(kConfigGet, "absent"), args(kLog, "said hi"),
                                 args(kContainerExists, "photos"), args(kContainerExists, "nope")});
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], "ok:hello");
  EXPECT_EQ(out[1], "ok:");
  EXPECT_EQ(out[2], "ok:");
  EXPECT_EQ(out[3], std::string("ok:\x01", 4));
  EXPECT_EQ(out[4], std::string("ok:\x00", 4));
  std::lock_guard lock(log_mu_);
  EXPECT_EQ(logged_, (std::vector<std::string>{"info ctx: said hi"}));
}

// The instance, its linker and plugin state go while a request is still
// waiting for its reply (the call timed out); the reply that comes later
// must find nothing of theirs (ASan: no use after free).
TEST_P(PluginsFromAsyncTasksTest, ACallUnderWayWhenItsInstanceGoesTouchesNothingFreed) {
  make_plugins();
  auto slow = broker_->subscribe("svc.slow", [this](Message m) {
    std::this_thread::sleep_for(milliseconds(600));
    if (m.reply_to) (void)broker_->publish({*m.reply_to, {'l', 'a', 't', 'e'}, std::nullopt});
  });
  ASSERT_TRUE(slow);
  {
    auto g = instantiate(milliseconds(150));
    auto out = call_concurrent(g, {args(kRequest, "svc.slow", "x"), args(kGet, "k")});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].rfind("trap:", 0), 0u) << out[0];
    g.instance.reset();
    g.state.reset();
    g.linker.reset();
  }
  std::this_thread::sleep_for(milliseconds(900));  // the reply comes, and goes nowhere
  auto g = instantiate();
  EXPECT_EQ(call(g, kSet, "k", "after"), "ok:");
  EXPECT_EQ(call(g, kGet, "k"), "ok:after");
}

INSTANTIATE_TEST_SUITE_P(Backends, PluginsFromAsyncTasksTest, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::plugins

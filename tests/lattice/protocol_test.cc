// The host protocol (lattice/host_protocol.h) answered from a real
// WorkloadHost serving HTTP on a loopback port: what the operator's
// requests get back, the states, and bodies that do not read.
#include <gtest/gtest.h>

#include <string>

#include "lattice/host_protocol.h"
#include "lattice/protojson.h"
#include "tests/support/http_get.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_engine.h"

namespace stratus::lattice {
namespace {

namespace v2 = wasmcloud::runtime::v2;

std::string hello() { return std::string(STRATUS_EXAMPLES_DIR) + "/http-hello.wasm"; }

std::string start_body(const std::string& id, const std::string& name, const std::string& image) {
  return R"({"workloadId":")" + id + R"(","workload":{"namespace":"test","name":")" + name +
         R"(","witWorld":{"components":[{"name":"hello","image":")" + image +
         R"(","poolSize":1}],"hostInterfaces":[{"namespace":"wasi","package":"http","version":"0.2.0",
         "interfaces":["incoming-handler"]}]}}})";
}

class HostProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = testing::make_test_engine("interp", STRATUS_TEST_CACHE_DIR);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
    serve::ServeOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    router_ = serve::HttpServer::create_router(*engine_, options);
    auto port = router_->listen();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    serving_ = std::thread([this] { router_->run(); });
    workload::HostSettings settings;
    settings.plugins.data_dir = dir_.path() / "data";
    host_ = std::make_unique<workload::WorkloadHost>(*engine_, *router_, settings);
    HostIdentity id;
    id.id = "h1";
    id.friendly_name = "host-one";
    id.version = "9.9.9";
    id.environment = "tenant-a";
    id.labels = {{"hostgroup", "blue"}, {"zone", "z1"}};
    id.http_port = port_;
    protocol_ = std::make_unique<HostProtocol>(*host_, id, dir_.path());
  }
  void TearDown() override {
    if (protocol_) protocol_->stop_all();
    protocol_.reset();
    host_.reset();
    if (router_) router_->stop();
    if (serving_.joinable()) serving_.join();
  }

  int get_status(const std::string& target) { return testing::http_get(port_, target).result_int(); }

  test_support::TempDir dir_{"stratus-lattice"};
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<serve::HttpServer> router_;
  uint16_t port_ = 0;
  std::thread serving_;
  std::unique_ptr<workload::WorkloadHost> host_;
  std::unique_ptr<HostProtocol> protocol_;
};

TEST_F(HostProtocolTest, StartStatusStop) {
  auto started = protocol_->start(start_body("uid-1", "hello", hello()));
  EXPECT_EQ(started.workload_status().workload_state(), v2::WORKLOAD_STATE_RUNNING)
      << started.workload_status().message();
  EXPECT_EQ(started.workload_status().workload_id(), "uid-1");
  EXPECT_EQ(get_status("/"), 200);

  auto reply = protocol_->handle("workload.status", R"({"workloadId":"uid-1"})");
  ASSERT_TRUE(reply);
  v2::WorkloadStatusResponse status;
  ASSERT_TRUE(from_json(*reply, status));
  EXPECT_EQ(status.workload_status().workload_state(), v2::WORKLOAD_STATE_RUNNING);
  EXPECT_NE(reply->find(R"("workloadState":"WORKLOAD_STATE_RUNNING")"), std::string::npos) << *reply;

  auto hb = protocol_->heartbeat();
  EXPECT_EQ(hb.workload_count(), 1U);
  EXPECT_EQ(hb.component_count(), 1U);

  auto again = protocol_->start(start_body("uid-1", "hello", hello()));
  EXPECT_EQ(again.workload_status().workload_state(), v2::WORKLOAD_STATE_ERROR);
  EXPECT_NE(again.workload_status().message().find("already exists"), std::string::npos);
  EXPECT_EQ(get_status("/"), 200) << "a refused start leaves the running one alone";

  auto stopped = protocol_->stop(R"({"workload_id":"uid-1"})");
  EXPECT_EQ(stopped.workload_status().workload_state(), v2::WORKLOAD_STATE_STOPPING);
  EXPECT_EQ(protocol_->status(R"({"workloadId":"uid-1"})").workload_status().workload_state(),
            v2::WORKLOAD_STATE_NOT_FOUND);
  EXPECT_EQ(protocol_->stop(R"({"workloadId":"uid-1"})").workload_status().workload_state(),
            v2::WORKLOAD_STATE_NOT_FOUND);
  EXPECT_EQ(get_status("/"), 404);
  EXPECT_EQ(protocol_->heartbeat().workload_count(), 0U);
}

int get_with_host(uint16_t port, const std::string& host) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, host);
  req.keep_alive(false);
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return static_cast<int>(res.result_int());
}

// wasmCloud's operator adds the Kubernetes Service's names to the wasi:http
// config as `host-aliases`: the workload answers to each.
TEST_F(HostProtocolTest, HostAliasesAreMoreHostsForTheRoutes) {
  std::string body = R"({"workloadId":"uid-a","workload":{"namespace":"test","name":"aliased","witWorld":{
      "components":[{"name":"hello","image":")" +
                     hello() + R"("}],"hostInterfaces":[{"namespace":"wasi","package":"http","version":"0.2.0",
      "interfaces":["incoming-handler"],"config":{"host":"hello.example",
      "host-aliases":"hello.default, hello.default.svc,,hello.example"}}]}}})";
  auto started = protocol_->start(body);
  ASSERT_EQ(started.workload_status().workload_state(), v2::WORKLOAD_STATE_RUNNING)
      << started.workload_status().message();
  EXPECT_EQ(get_with_host(port_, "hello.example"), 200);
  EXPECT_EQ(get_with_host(port_, "hello.default"), 200);
  EXPECT_EQ(get_with_host(port_, "hello.default.svc:8080"), 200);
  EXPECT_EQ(get_with_host(port_, "other.example"), 404);
  protocol_->stop(R"({"workloadId":"uid-a"})");
  EXPECT_EQ(get_with_host(port_, "hello.default"), 404) << "the alias routes go with the workload";
}

TEST_F(HostProtocolTest, UnknownIdIsNotFound) {
  auto s = protocol_->status(R"({"workloadId":"nobody"})");
  EXPECT_EQ(s.workload_status().workload_state(), v2::WORKLOAD_STATE_NOT_FOUND);
  EXPECT_EQ(s.workload_status().workload_id(), "nobody");
}

TEST_F(HostProtocolTest, AWorkloadThatCannotStartIsInErrorUntilStopped) {
  auto started = protocol_->start(start_body("uid-2", "Bad Name", dir_.path().string() + "/missing.wasm"));
  EXPECT_EQ(started.workload_status().workload_state(), v2::WORKLOAD_STATE_ERROR);
  const std::string& why = started.workload_status().message();
  EXPECT_NE(why.find("workload.name: 'Bad Name'"), std::string::npos) << why;
  EXPECT_NE(why.find("workload.wit_world.components[0].image"), std::string::npos) << why;
  auto status = protocol_->status(R"({"workloadId":"uid-2"})");
  EXPECT_EQ(status.workload_status().workload_state(), v2::WORKLOAD_STATE_ERROR);
  EXPECT_EQ(status.workload_status().message(), why);
  protocol_->stop(R"({"workloadId":"uid-2"})");
  EXPECT_EQ(protocol_->status(R"({"workloadId":"uid-2"})").workload_status().workload_state(),
            v2::WORKLOAD_STATE_NOT_FOUND);
}

TEST_F(HostProtocolTest, BodiesThatDoNotReadGetAnErrorNamingTheField) {
  struct Case {
    const char* verb;
    std::string body;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {"workload.start", "{", "workload.start: the request does not read"},
           {"workload.start", R"({"workloadId":"x","workload":{"witWorld":{"components":[{"poolSize":"big"}]}}})",
            "workload.wit_world.components[0].pool_size"},
           {"workload.start", R"({"workload":{"name":"x"}})", "workload_id: missing"},
           {"workload.start", R"({"workloadId":"x"})", "workload: missing"},
           {"workload.status", R"({"workloadId":7})", "workload_id"},
           {"workload.status", R"({})", "workload_id: missing"},
           {"workload.stop", R"({"workloadId":["a"]})", "workloadId"},  // as the body spells it
           {"workload.stop", "", "workload.stop"},
       }) {
    auto reply = protocol_->handle(c.verb, c.body);
    ASSERT_TRUE(reply) << c.verb;
    v2::WorkloadStartResponse r;  // the three responses have the same shape
    ASSERT_TRUE(from_json(*reply, r)) << *reply;
    EXPECT_EQ(r.workload_status().workload_state(), v2::WORKLOAD_STATE_ERROR) << c.verb << " " << c.body;
    EXPECT_NE(r.workload_status().message().find(c.says), std::string::npos)
        << c.verb << " " << c.body << " -> " << r.workload_status().message();
  }
  EXPECT_FALSE(protocol_->handle("workload.restart", "{}"));
  EXPECT_EQ(protocol_->heartbeat().workload_count(), 0U) << "nothing refused was kept";
}

TEST_F(HostProtocolTest, HeartbeatFillsEveryField) {
  auto reply = protocol_->handle("heartbeat", "{}");
  ASSERT_TRUE(reply);
  v2::HostHeartbeat hb;
  ASSERT_TRUE(from_json(*reply, hb));
  EXPECT_EQ(hb.id(), "h1");
  EXPECT_FALSE(hb.hostname().empty());
  EXPECT_EQ(hb.friendly_name(), "host-one");
  EXPECT_EQ(hb.version(), "9.9.9");
  EXPECT_EQ(hb.labels().at("hostgroup"), "blue");
  EXPECT_EQ(hb.labels().at("zone"), "z1");
  EXPECT_GT(hb.started_at().seconds(), 1'700'000'000);
  EXPECT_EQ(hb.os_name(), "linux");
  EXPECT_FALSE(hb.os_arch().empty());
  EXPECT_FALSE(hb.os_kernel().empty());
  EXPECT_GE(hb.system_cpu_usage(), 0.0F);
  EXPECT_LE(hb.system_cpu_usage(), 100.0F);
  EXPECT_GT(hb.system_memory_total(), 0U);
  EXPECT_GT(hb.system_memory_free(), 0U);
  EXPECT_LE(hb.system_memory_free(), hb.system_memory_total());
  EXPECT_EQ(hb.http_port(), port_);
  EXPECT_EQ(hb.environment(), "tenant-a");
  auto has = [](const auto& list, const std::string& ns, const std::string& package, const std::string& iface) {
    for (const auto& i : list)
      if (i.namespace_() == ns && i.package() == package)
        for (const auto& name : i.interfaces())
          if (name == iface) return true;
    return false;
  };
  EXPECT_TRUE(has(hb.imports(), "wasi", "keyvalue", "store"));
  EXPECT_TRUE(has(hb.imports(), "wasi", "http", "outgoing-handler"));
  EXPECT_TRUE(has(hb.imports(), "wasmcloud", "messaging", "consumer"));
  EXPECT_FALSE(has(hb.imports(), "wasmcloud", "messaging", "handler"));
  EXPECT_TRUE(has(hb.exports(), "wasi", "http", "incoming-handler"));
  EXPECT_TRUE(has(hb.exports(), "wasmcloud", "messaging", "handler"));
  for (const char* field : {"\"startedAt\":\"", "\"systemMemoryTotal\":\"", "\"httpPort\":", "\"osKernel\":"})
    EXPECT_NE(reply->find(field), std::string::npos) << field << " in " << *reply;
}

}  // namespace
}  // namespace stratus::lattice

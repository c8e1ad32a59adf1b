// HTTP middleware chains (workload/links.h): a P3 middleware in front of a
// P3 backend (guests/middleware, guests/backend), megabytes of body through
// the chain both ways, a backend trapping mid-stream, the start errors of
// chains that do not end or whose head is unclear; and a P2 pass-through
// middleware (guests/middleware-p2) in front of examples/http-hello. On
// both engine backends.
#include <sys/socket.h>
#include <sys/time.h>

#include "tests/workload/runtime_fixture.h"

namespace stratus::workload {
namespace {

using test_host::WorkloadRuntimeTest;
namespace http = boost::beast::http;

constexpr size_t kMiB = 1u << 20;

struct Answer {
  int status = 0;
  std::string body;
  std::string middleware;  // the x-middleware header
  size_t middlewares = 0;  // how many x-middleware headers came
  std::string error;       // what went wrong reading the response, if anything
};

// POSTs `body` to `target` on 127.0.0.1; a read stalled for 30 s fails
// rather than hangs.
Answer post(uint16_t port, const std::string& target, const std::string& body) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  timeval timeout{30, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "localhost");
  req.body() = body;
  req.prepare_payload();
  req.keep_alive(false);
  Answer out;
  boost::system::error_code ec;
  http::write(socket, req, ec);
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * kMiB);
  http::read(socket, buffer, parser, ec);
  if (parser.is_header_done()) {
    out.status = static_cast<int>(parser.get().result_int());
    out.middleware = std::string(parser.get()["x-middleware"]);
    out.middlewares = parser.get().count("x-middleware");
  }
  out.body = parser.get().body();
  if (ec) out.error = ec.message();
  return out;
}

std::string payload(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

class ChainTest : public WorkloadRuntimeTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string engine_name() const override { return GetParam(); }

  static std::string yaml(const std::string& name, const std::vector<std::pair<std::string, std::string>>& members) {
    std::string y = "namespace: test\nname: " + name + "\nwit_world:\n  components:\n";
    for (const auto& [n, image] : members) y += "    - name: " + n + "\n      image: " + image + "\n";
    y += "  host_interfaces:\n    - {namespace: wasi, package: http, version: 0.3.0, interfaces: [handler]}\n";
    return y;
  }
};

const std::string kMiddleware = STRATUS_MIDDLEWARE_COMPONENT;
const std::string kBackend = STRATUS_BACKEND_COMPONENT;

TEST_P(ChainTest, MegabytesStreamThroughAMiddlewareToItsBackendAndBack) {
  auto id = start(yaml("chain", {{"middleware", kMiddleware}, {"backend", kBackend}}));
  ASSERT_TRUE(id) << id.error().message;
  auto status = host_->status(*id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, WorkloadState::kRunning);
  std::string body = payload(4 * kMiB);
  for (int round = 0; round < 2; ++round) {
    auto a = post(port_, "/echo", body);
    ASSERT_EQ(a.error, "") << "round " << round;
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.middleware, "1") << "the request went through the middleware";
    EXPECT_EQ(a.middlewares, 1u);
    EXPECT_EQ(a.body.size(), body.size());
    EXPECT_TRUE(a.body == body) << "the body came back changed";
  }
}

TEST_P(ChainTest, AThreeMemberChainPassesEachMiddlewareInTurn) {
  auto id = start(yaml("three", {{"outer", kMiddleware}, {"inner", kMiddleware}, {"backend", kBackend}}));
  ASSERT_TRUE(id) << id.error().message;
  auto status = host_->status(*id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->routes.size(), 1u) << "only the head is routed";
  std::string body = payload(kMiB);
  for (int round = 0; round < 2; ++round) {
    auto a = post(port_, "/echo", body);
    ASSERT_EQ(a.error, "") << "round " << round;
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.middlewares, 2u) << "each middleware added its header";
    EXPECT_TRUE(a.body == body) << "the body came back changed";
  }
}

TEST_P(ChainTest, ABackendTrappingMidStreamGivesTheClientAnErrorAndTheHostServesOn) {
  auto id = start(yaml("trap", {{"middleware", kMiddleware}, {"backend", kBackend}}));
  ASSERT_TRUE(id) << id.error().message;
  std::string body = payload(4 * kMiB);
  auto a = post(port_, "/echo?trap_after=1048576", body);
  bool failed = !a.error.empty() || a.status >= 500;
  EXPECT_TRUE(failed) << "status " << a.status << ", " << a.body.size() << " bytes";
  EXPECT_NE(a.error, "Resource temporarily unavailable") << "the client waited for a response that never came";
  EXPECT_LE(a.body.size(), kMiB) << "no byte after the trap";
  EXPECT_TRUE(body.compare(0, a.body.size(), a.body) == 0) << "what came is the start of the body";
  auto status = host_->status(*id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, WorkloadState::kRunning);
  auto next = post(port_, "/echo", body);
  ASSERT_EQ(next.error, "");
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.middleware, "1");
  EXPECT_TRUE(next.body == body);
}

TEST_P(ChainTest, CircularAndAmbiguousChainsAreStartErrorsNamingTheMembers) {
  auto circular = start(yaml("circular", {{"backend", kBackend}, {"middleware", kMiddleware}}));
  ASSERT_FALSE(circular);
  EXPECT_NE(circular.error().message.find("wit_world: the HTTP chain middleware is circular: middleware imports "
                                          "wasi:http/handler@0.3.0 and no member after it exports it"),
            std::string::npos)
      << circular.error().message;
  auto s = host_->status("test/circular");
  EXPECT_TRUE(!s || s->state != WorkloadState::kRunning);

  auto ambiguous = start(yaml("ambiguous", {{"middleware", kMiddleware}, {"backend", kBackend}, {"other", kBackend}}));
  ASSERT_FALSE(ambiguous);
  EXPECT_NE(ambiguous.error().message.find("the HTTP chain middleware -> backend is ambiguous"), std::string::npos)
      << ambiguous.error().message;
  EXPECT_NE(ambiguous.error().message.find("(middleware, other)"), std::string::npos) << ambiguous.error().message;
  auto a = host_->status("test/ambiguous");
  EXPECT_TRUE(!a || a->state != WorkloadState::kRunning);
}

TEST_P(ChainTest, AWasiP2MiddlewarePassesRequestsToTheNextHandler) {
  std::string y = "namespace: test\nname: p2\nwit_world:\n  components:\n    - name: pass\n      image: " +
                  std::string(STRATUS_MIDDLEWARE_P2_COMPONENT) +
                  "\n    - name: hello\n      image: " + test_host::example("http-hello") +
                  "\n  host_interfaces:\n    - {namespace: wasi, package: http, interfaces: [incoming-handler]}\n";
  auto id = start(y);
  ASSERT_TRUE(id) << id.error().message;
  auto status = host_->status(*id);
  ASSERT_TRUE(status);
  ASSERT_EQ(status->routes.size(), 1u) << "only the head is routed";
  for (int round = 0; round < 2; ++round) {
    auto hi = test_host::get(port_, "/?name=Ada");
    EXPECT_EQ(hi.status, 200);
    EXPECT_EQ(hi.body, "Hello, Ada!\n");
  }
  EXPECT_EQ(test_host::get(port_, "/elsewhere").status, 404) << "http-hello's own 404, through the middleware";
}

INSTANTIATE_TEST_SUITE_P(Backends, ChainTest, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::workload

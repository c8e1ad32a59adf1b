// `stratus serve`'s server with a real wasi:http component (guests/proxy.cc,
// C++ on the generated guest bindings) and a real HTTP client (Beast), on
// loopback, on both backends.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "serve/http_server.h"
#include "tests/support/component_file.h"

namespace stratus::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Plain recv with a timeout (asio's read_some would wait on past it), so a
// server that holds something back fails a test instead of hanging it:
// what came until `what` arrived or the connection ended (or 5 s passed).
std::string read_until(int fd, const std::string& what, std::string got = {}) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  while (what.empty() || got.find(what) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// Whether the server closed `fd` (a read sees the end) within 5 s.
bool closed_by_server(int fd) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[256];
  return ::recv(fd, buf, sizeof buf, 0) == 0;
}

// One client connection; requests on it reuse it (keep-alive).
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  http::response<http::string_body> send(http::verb method, const std::string& target, const std::string& body = {},
                                         bool keep_alive = true) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    req.body() = body;
    req.prepare_payload();
    http::write(socket_, req);
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    http::read(socket_, buffer_, res);
    return res;
  }
  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

class ServeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    auto component = testing::read_component(STRATUS_PROXY_COMPONENT);
    ASSERT_TRUE(component.ok()) << component.error().message;
    ServeOptions serve;
    serve.port = 0;
    serve.timeout = timeout();
    auto server = HttpServer::create(*engine_, *component, std::move(serve));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    auto port = server_->listen();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  // Generous: under ASan every byte of a body crosses as a Val.
  virtual std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(30'000); }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_P(ServeTest, AnswersAGetWithTheGuestsResponse) {
  Client client(port_);
  auto res = client.send(http::verb::get, "/hello?name=stratus");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "Hello, stratus!\n");
  EXPECT_EQ(res[http::field::content_type], "text/plain");
}

TEST_P(ServeTest, StreamsAMegabyteRequestBodyThroughTheGuestAndBack) {
  Client client(port_);
  std::string body(1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  auto res = client.send(http::verb::post, "/echo", body);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body().size(), body.size());
  EXPECT_TRUE(res.body() == body);
}

TEST_P(ServeTest, KeepsAConnectionAliveAcrossRequestsWithAFreshInstanceEach) {
  Client client(port_);
  // The guest counts calls in a global: a fresh instance per request always says 1.
  for (int i = 0; i < 5; ++i) {
    auto res = client.send(http::verb::get, "/count");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "1\n");
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_GE(server_->counters().requests.load(), 5u);
}

TEST_P(ServeTest, AGuestTrapIsA500AndTheServerGoesOn) {
  Client client(port_);
  auto trapped = client.send(http::verb::get, "/trap", {}, false);
  EXPECT_EQ(trapped.result_int(), 500);
  EXPECT_NE(trapped.body().find("trap"), std::string::npos) << trapped.body();
  Client again(port_);
  auto res = again.send(http::verb::get, "/hello?name=again");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "Hello, again!\n");
  EXPECT_EQ(server_->counters().guest_traps.load(), 1u);
}

// The server gathers a response until the guest flushes or finishes it, so
// a guest that traps before anything went out still gets a clean 500, and
// the connection stays usable.
TEST_P(ServeTest, ATrapBeforeTheResponseWentOutIsA500) {
  Client client(port_);
  auto trapped = client.send(http::verb::get, "/trap-late");
  EXPECT_EQ(trapped.result_int(), 500);
  EXPECT_NE(trapped.body().find("trap"), std::string::npos) << trapped.body();
  EXPECT_EQ(trapped.body().find("half an ans"), std::string::npos) << trapped.body();
  auto res = client.send(http::verb::get, "/hello?name=after");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "Hello, after!\n");
}

// What the guest flushed goes out before it waits, not with the end of the
// body: "first" arrives well before the guest's 600 ms wait is over.
TEST_P(ServeTest, AFlushedPieceGoesOutBeforeTheRestOfTheBody) {
  Client client(port_);
  std::string req = "GET /drip HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(client.socket(), asio::buffer(req));
  std::string got;
  char buf[4096];
  beast::error_code ec;
  while (got.find("first\n") == std::string::npos && !ec)
    got.append(buf, client.socket().read_some(asio::buffer(buf), ec));
  ASSERT_NE(got.find("first\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("second"), std::string::npos) << got;
  auto first_at = std::chrono::steady_clock::now();
  while (!ec) got.append(buf, client.socket().read_some(asio::buffer(buf), ec));
  auto waited = std::chrono::steady_clock::now() - first_at;
  EXPECT_NE(got.find("second\n"), std::string::npos) << got;
  EXPECT_GE(waited, std::chrono::milliseconds(400)) << "the first piece came with the rest";
}

// A guest waiting for more of the request body has sent what it flushed:
// the client sees its first piece echoed before it sends the second.
TEST_P(ServeTest, WhatTheGuestFlushedGoesOutBeforeItWaitsForTheRequestBody) {
  Client client(port_);
  int fd = client.socket().native_handle();
  std::string head =
      "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  asio::write(client.socket(), asio::buffer(head + "6\r\nfirst\n\r\n"));
  std::string got = read_until(fd, "first\n");
  ASSERT_NE(got.find("first\n"), std::string::npos) << got;
  asio::write(client.socket(), asio::buffer(std::string("7\r\nsecond\n\r\n0\r\n\r\n")));
  got = read_until(fd, "0\r\n\r\n", got);
  EXPECT_NE(got.find("0\r\n\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("second\n"), std::string::npos) << got;
}

TEST_P(ServeTest, AMalformedRequestIsA400AndTheServerGoesOn) {
  {
    Client client(port_);
    std::string junk = "NOT HTTP AT ALL\r\n\r\n";
    asio::write(client.socket(), asio::buffer(junk));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(client.socket(), buffer, res, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 400);
  }
  Client client(port_);
  EXPECT_EQ(client.send(http::verb::get, "/hello?name=x").result_int(), 200);
}

TEST_P(ServeTest, StopLetsTheRequestInFlightFinish) {
  Client client(port_);
  std::thread slow([&] {
    auto res = client.send(http::verb::get, "/sleep");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "slept\n");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->stop();
  slow.join();
  thread_.join();
  // Stopped: nothing listens any more.
  asio::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  if (!ec) {
    http::request<http::string_body> req{http::verb::get, "/hello", 11};
    http::write(socket, req, ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res, ec);
  }
  EXPECT_TRUE(ec);
}

// A head that arrives in pieces is read as it comes (the connection waits
// in the event loop between them, holding no thread) and answered whole.
TEST_P(ServeTest, AHeadArrivingInPiecesIsAnswered) {
  Client client(port_);
  for (std::string piece : {"GET /hello?na", "me=pieces HTTP/1.1\r\nHo", "st: 127.0.0.1\r\n", "\r\n"}) {
    asio::write(client.socket(), asio::buffer(piece));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  std::string got = read_until(client.socket().native_handle(), "Hello, pieces!\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_NE(got.find("Hello, pieces!\n"), std::string::npos) << got;
}

// Requests sent back to back before any answer (pipelined) are answered in
// order, each by a fresh instance.
TEST_P(ServeTest, PipelinedRequestsAreAnsweredInOrder) {
  Client client(port_);
  std::string reqs;
  for (const char* target : {"/hello?name=one", "/count", "/hello?name=three"})
    reqs += std::string("GET ") + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  asio::write(client.socket(), asio::buffer(reqs));
  beast::flat_buffer buffer;
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    http::response<http::string_body> res;
    http::read(client.socket(), buffer, res);
    EXPECT_EQ(res.result_int(), 200);
    bodies.push_back(res.body());
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"Hello, one!\n", "1\n", "Hello, three!\n"}));
}

// Guests that wait (here 300 ms each, more of them than the server starts
// threads with) do not hold up other connections: more threads start.
TEST_P(ServeTest, WaitingGuestsDoNotHoldUpOtherRequests) {
  if (GetParam() == "interp")
    GTEST_SKIP() << "the interp backend runs one call at a time per engine (wabt's store is not thread-safe; a "
                    "guest blocked in a host call keeps it)";
  constexpr int kSleepers = 8;
  std::atomic<int> slept{0};
  std::vector<std::thread> sleepers;
  for (int i = 0; i < kSleepers; ++i) {
    sleepers.emplace_back([&] {
      Client client(port_);
      auto res = client.send(http::verb::get, "/sleep");
      EXPECT_EQ(res.body(), "slept\n");
      slept++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Client client(port_);
  auto res = client.send(http::verb::get, "/hello?name=meanwhile");
  int done_before = slept.load();
  for (auto& t : sleepers) t.join();
  EXPECT_EQ(res.body(), "Hello, meanwhile!\n");
  // Served one after another on the first threads, the sleeps would all be
  // over (8 x 300 ms on 2 or so threads) before this one got its turn.
  EXPECT_LT(done_before, kSleepers);
  EXPECT_EQ(slept.load(), kSleepers);
}

// stop() ends connections that wait for a request (idle, or with half a
// head) at once, without an answer; run() returns.
TEST_P(ServeTest, StopClosesWaitingConnections) {
  Client idle(port_);
  EXPECT_EQ(idle.send(http::verb::get, "/hello?name=x").result_int(), 200);
  Client silent(port_);
  Client half(port_);
  asio::write(half.socket(), asio::buffer(std::string("GET /hello HTTP/1.1\r\nHo")));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = std::chrono::steady_clock::now();
  server_->stop();
  thread_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  for (Client* c : {&idle, &silent, &half}) EXPECT_EQ(read_until(c->socket().native_handle(), ""), "");
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

// The same server with a short timeout (400 ms), for the timeouts.
class ServeTimeoutTest : public ServeTest {
 protected:
  std::chrono::milliseconds timeout() const override { return std::chrono::milliseconds(400); }
};

// A head must arrive whole within the timeout of its first byte: a client
// that stops halfway (or trickles) gets a 408 and the connection closes.
TEST_P(ServeTimeoutTest, AHeadCutShortIsA408) {
  Client client(port_);
  auto start = std::chrono::steady_clock::now();
  asio::write(client.socket(), asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n")));
  std::string got = read_until(client.socket().native_handle(), "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(350));
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
}

TEST_P(ServeTimeoutTest, AHeadTrickledPastTheTimeoutIsA408) {
  Client client(port_);
  std::string head = "GET /hello?name=slowly HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  beast::error_code ec;
  // A byte every 20 ms: the whole head would take over a second.
  for (char ch : head) {
    asio::write(client.socket(), asio::buffer(&ch, 1), ec);
    if (ec) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string got = read_until(client.socket().native_handle(), "");
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  EXPECT_EQ(got.find("slowly"), std::string::npos) << got;
}

// A keep-alive connection idle for the timeout is closed, silently; one
// that never sent anything too; the server goes on.
TEST_P(ServeTimeoutTest, IdleConnectionsAreClosedAfterTheTimeout) {
  Client used(port_);
  EXPECT_EQ(used.send(http::verb::get, "/hello?name=x").result_int(), 200);
  Client silent(port_);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_by_server(used.socket().native_handle()));
  EXPECT_TRUE(closed_by_server(silent.socket().native_handle()));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  Client again(port_);
  EXPECT_EQ(again.send(http::verb::get, "/hello?name=y").body(), "Hello, y!\n");
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeTimeoutTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::serve

// `stratus serve`'s server with a real wasi:http component (guests/proxy.cc,
// C++ on the generated guest bindings) and a real HTTP client (Beast), on
// loopback, on both backends.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "serve/http_server.h"
#include "tests/support/component_file.h"

namespace stratus::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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
    // Generous: under ASan every byte of a body crosses as a Val.
    serve.timeout = std::chrono::milliseconds(30'000);
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
  // Plain recv with a timeout (asio's read_some would wait on past it): a
  // server that held the piece back fails the test instead of hanging it.
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto read_until = [&](std::string& got, const std::string& what) {
    char buf[4096];
    while (got.find(what) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      got.append(buf, static_cast<size_t>(n));
    }
    return true;
  };
  std::string head =
      "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  asio::write(client.socket(), asio::buffer(head + "6\r\nfirst\n\r\n"));
  std::string got;
  ASSERT_TRUE(read_until(got, "first\n")) << got;
  asio::write(client.socket(), asio::buffer(std::string("7\r\nsecond\n\r\n0\r\n\r\n")));
  EXPECT_TRUE(read_until(got, "0\r\n\r\n")) << got;
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

INSTANTIATE_TEST_SUITE_P(Backends, ServeTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::serve

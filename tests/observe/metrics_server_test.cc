// The --metrics-addr listener: the pages it was given, 404 and 405 for the
// rest, a clear error for a bad address, and it stops with its object.
#include "observe/metrics_server.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "observe/metrics.h"
#include "observe/status_page.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"

namespace stratus::observe {
namespace {

namespace http = boost::beast::http;

MetricsServer::Handlers handlers() {
  MetricsServer::Handlers h;
  h["/metrics"] = [] { return Page{kExpositionContentType, "up_total 1\n"}; };
  h["/"] = [] { return Page{"text/html; charset=utf-8", std::string(status_page_html())}; };
  return h;
}

TEST(MetricsServerTest, ServesItsPagesAndRefusesTheRest) {
  auto server = MetricsServer::start("127.0.0.1:0", handlers());
  ASSERT_TRUE(server) << server.error().message;
  uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  auto res = testing::http_get(port, "/metrics?x=1");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body(), "up_total 1\n");
  res = testing::http_get(port, "/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("status.json"), std::string::npos);
  EXPECT_EQ(res.body().find("http://"), std::string::npos) << "the page must load nothing from elsewhere";
  EXPECT_EQ(res.body().find("https://"), std::string::npos) << "the page must load nothing from elsewhere";
  res = testing::http_get(port, "/nothing");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_NE(res.body().find("/metrics"), std::string::npos);

  // POST is not served.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{http::verb::post, "/metrics", 11};
  req.body() = "x";
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> post;
  http::read(socket, buffer, post);
  EXPECT_EQ(post.result_int(), 405);
}

TEST(MetricsServerTest, AGarbledRequestGets400AndTheServerGoesOn) {
  auto server = MetricsServer::start("127.0.0.1:0", handlers());
  ASSERT_TRUE(server) << server.error().message;
  uint16_t port = (*server)->port();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(socket, boost::asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(testing::http_get(port, "/metrics").result_int(), 200);
}

TEST(MetricsServerTest, BadAddressesAreClearErrors) {
  auto no_port = MetricsServer::start("127.0.0.1", handlers());
  ASSERT_FALSE(no_port);
  EXPECT_EQ(no_port.error().message, "--metrics-addr '127.0.0.1': expected HOST:PORT (such as 127.0.0.1:9090)");
  auto bad_port = MetricsServer::start("127.0.0.1:99999", handlers());
  ASSERT_FALSE(bad_port);
  EXPECT_EQ(bad_port.error().message, "--metrics-addr '127.0.0.1:99999': the port must be a number from 0 to 65535");
  auto bad_host = MetricsServer::start("localhost:0", handlers());
  ASSERT_FALSE(bad_host);
  EXPECT_EQ(bad_host.error().message, "--metrics-addr 'localhost:0': `localhost` is not an IPv4 address");
  auto first = MetricsServer::start("127.0.0.1:0", handlers());
  ASSERT_TRUE(first);
  std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = MetricsServer::start(taken, handlers());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message.rfind("--metrics-addr: cannot listen on " + taken + ": ", 0), 0u)
      << second.error().message;
}

TEST(MetricsServerTest, StopsWithItsObject) {
  uint16_t port = 0;
  {
    auto server = MetricsServer::start("127.0.0.1:0", handlers());
    ASSERT_TRUE(server);
    port = (*server)->port();
    EXPECT_TRUE(test_support::port_open(port));
  }
  EXPECT_FALSE(test_support::port_open(port));
}

}  // namespace
}  // namespace stratus::observe

// `stratus serve`'s server with WASI 0.3 components (wasi:http/handler@0.3):
// the wasi-testsuite's http-service and jco's p3 serve fixtures, on
// loopback, on both backends.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "serve/http_server.h"
#include "tests/support/component_file.h"
#include "tests/support/sanitized.h"

namespace stratus::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

http::response<http::string_body> send(uint16_t port, http::verb method, const std::string& target) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  http::write(socket, req);
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  http::read(socket, buffer, res);
  return res;
}

class ServeP3Test : public ::testing::TestWithParam<std::string> {
 protected:
  void serve(const std::string& fixture, std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000)) {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    std::string path = std::string(STRATUS_FIXTURES_DIR) + "/" + fixture;
    auto component = testing::read_component(path);
    ASSERT_TRUE(component.ok()) << component.error().message << " (fixtures: STRATUS_FIXTURES)";
    ServeOptions serve;
    serve.port = 0;
    serve.timeout = timeout;
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

// wasi-testsuite's http-service.json, request by request.
TEST_P(ServeP3Test, TheTestsuitesHttpServiceAnswersAsItsSpecSays) {
  serve("wasi-testsuite/rust/testsuite/wasm32-wasip3/http-service.wasm");
  for (int i = 0; i < 2; ++i) {
    auto res = send(port_, http::verb::get, "/");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res[http::field::content_type], "text/plain");
    EXPECT_EQ(res.body(), "hey\n");
  }
  EXPECT_EQ(send(port_, http::verb::get, "/whatever").result_int(), 404);
  EXPECT_EQ(send(port_, http::verb::post, "/whatever").result_int(), 405);
}

TEST_P(ServeP3Test, AStreamedBodyComesThroughWhole) {
  serve("jco/p3/cli/p3-cli-serve-hello-world.wasm");
  auto res = send(port_, http::verb::get, "/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "Hello, WASI!");
}

TEST_P(ServeP3Test, AHandlerPastItsDeadlineIsA500AndTheServerGoesOn) {
  // Known defect (#8): the timed-out handler's pending wait (a timer of the
  // worker store's reactor, holding its call) keeps that instance alive
  // until the worker goes, which LeakSanitizer reports at exit.
  if (test_support::kSanitized) GTEST_SKIP() << "leaks the timed-out instance until its worker goes (#8)";
  serve("jco/p3/cli/p3-cli-serve-sleep.wasm", std::chrono::milliseconds(300));
  for (int i = 0; i < 2; ++i) EXPECT_EQ(send(port_, http::verb::get, "/").result_int(), 500);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeP3Test, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::serve

// Outbound wasi:http end to end, on both backends: a real client asks
// `stratus serve`'s server, whose guest (guests/fetch.cc) fetches with
// wasi:http/outgoing-handler from a real upstream server (Beast, blocking,
// on 127.0.0.1, started here) and answers with what came back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "observe/otlp/exporter.h"
#include "serve/http_server.h"
#include "tests/support/component_file.h"
#include "tests/support/http_upstream.h"
#include "tests/support/sanitized.h"
#include "wasi/p2/http.h"
#include "wasi/p2/http_client.h"

namespace stratus::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using testing::closed_port;
using testing::Upstream;

// Two self-signed certificates for 127.0.0.1 (made with the openssl tool):
// the host's TLS trusts `trusted` (SSL_CERT_FILE, which OpenSSL reads in
// place of the system store), not `untrusted`.
struct TestCertificates : ::testing::Environment {
  static inline std::string dir, trusted, untrusted;
  void SetUp() override {
    char tmpl[] = "/tmp/stratus-fetch-tls-XXXXXX";
    dir = ::mkdtemp(tmpl);
    for (const char* name : {"trusted", "untrusted"}) {
      std::string base = dir + "/" + name;
      std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + base + ".key -out " + base +
                            ".pem -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
    }
    trusted = dir + "/trusted";
    untrusted = dir + "/untrusted";
    ::setenv("SSL_CERT_FILE", (trusted + ".pem").c_str(), 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
};
const auto* const kCertificates = ::testing::AddGlobalTestEnvironment(new TestCertificates);

// An https upstream on 127.0.0.1 with the certificate `base`.pem: every
// request gets 200 "hello over tls\n".
class TlsUpstream {
 public:
  explicit TlsUpstream(const std::string& base) : context_(asio::ssl::context::tls_server) {
    context_.use_certificate_chain_file(base + ".pem");
    context_.use_private_key_file(base + ".key", asio::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve_one(); });
  }
  ~TlsUpstream() { thread_.join(); }
  uint16_t port() const { return port_; }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  bool handshake_failed() const { return handshake_failed_.load(); }

 private:
  // One connection: the test makes one request.
  void serve_one() {
    beast::error_code ec;
    // A host that never connects fails its test, not hangs it.
    pollfd p{acceptor_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) return;
    timeval tv{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    asio::ssl::stream<tcp::socket> stream(std::move(socket), context_);
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
      handshake_failed_ = true;
      return;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(false);
    res.body() = "hello over tls\n";
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  asio::io_context io_;
  asio::ssl::context context_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::atomic<bool> handshake_failed_{false};
  std::thread thread_;
};

// A port nothing listens on: bound, then closed.
http::response<http::string_body> ask(uint16_t port, http::verb method, const std::string& target,
                                      const std::map<std::string, std::string>& headers, const std::string& body = {}) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  // An answer that does not come in 60 s fails the test instead of hanging
  // it: the watchdog cuts the connection.
  std::mutex mu;
  std::condition_variable answered;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!answered.wait_for(lock, 60s, [&] { return done; })) ::shutdown(socket.native_handle(), SHUT_RDWR);
  });
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::flat_buffer buffer;
  beast::error_code ec;
  http::read(socket, buffer, parser, ec);
  {
    std::lock_guard lock(mu);
    done = true;
  }
  answered.notify_one();
  watchdog.join();
  EXPECT_FALSE(ec) << target << ": " << ec.message();
  return parser.release();
}

// Waits up to `limit` for `done`.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class FetchTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
  }
  void TearDown() override {
    if (HasFailure() && thread_.joinable()) {
      // A guest may be stuck in a host wait that nothing ends: leave the
      // server (and what it runs on) to the process's end, so the failure
      // is reported instead of hanging here.
      thread_.detach();
      (void)server_.release();
      (void)engine_.release();
      return;
    }
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  // The server, granting outbound HTTP to `allowed`.
  void start(std::vector<std::string> allowed, observe::TraceExporter* traces = nullptr) {
    auto component = testing::read_component(STRATUS_FETCH_COMPONENT);
    ASSERT_TRUE(component.ok()) << component.error().message;
    ServeOptions serve;
    serve.traces = traces;
    serve.port = 0;
    serve.timeout = std::chrono::milliseconds(30'000);
    serve.wasi.allowed_hosts = std::move(allowed);
    auto server = HttpServer::create(*engine_, *component, std::move(serve));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    auto port = server_->listen();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { server_->run(); });
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  Upstream upstream_;
};

TEST_P(FetchTest, AGetThroughTheGuestReachesTheUpstreamAndItsBodyComesBack) {
  start({"127.0.0.1"});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", upstream_.authority()}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.body(), "hello from upstream\n");
  EXPECT_EQ(res["x-upstream-header"], "yes");
  EXPECT_EQ(res["content-type"], "text/plain");
  EXPECT_EQ(res["x-fetched-by"], "stratus");
  EXPECT_EQ(upstream_.connections(), 1u);
  auto seen = upstream_.last();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/hello");
  EXPECT_EQ(seen.host, upstream_.authority());
}

// With spans exported, the outbound request carries its client span's
// context: the incoming request's trace, a span of its own.
TEST_P(FetchTest, AnOutboundRequestCarriesItsClientSpansTraceparent) {
  observe::OtlpConfig config;
  config.traces_url = "http://127.0.0.1:1/v1/traces";  // nobody: the spans are dropped at the end
  config.attempts = 1;
  auto exporter = observe::TraceExporter::start(config);
  ASSERT_TRUE(exporter);
  (*exporter)->set_log([](const std::string&) {});
  start({"127.0.0.1"}, exporter->get());
  const std::string trace = "0af7651916cd43dd8448eb211c80319c", parent = "b7ad6b7169203331";
  auto res = ask(port_, http::verb::get, "/hello",
                 {{"X-Upstream", upstream_.authority()}, {"traceparent", "00-" + trace + "-" + parent + "-01"}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  auto sent = observe::parse_traceparent(upstream_.last().traceparent);
  ASSERT_TRUE(sent) << "'" << upstream_.last().traceparent << "'";
  EXPECT_EQ(observe::to_hex(sent->trace_id.data(), 16), trace);
  EXPECT_NE(observe::to_hex(sent->span_id.data(), 8), parent);
  EXPECT_EQ(sent->flags, 1);
  server_->stop();
  thread_.join();
  server_.reset();  // before the exporter goes
}

// Without an exporter nothing is added.
TEST_P(FetchTest, WithoutSpansAnOutboundRequestGetsNoTraceparent) {
  start({"127.0.0.1"});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", upstream_.authority()}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(upstream_.last().traceparent, "");
}

// The large bodies below: 1 MiB, or 256 KiB in sanitizer builds, where each
// body byte crosses the canonical ABI as a Val (no byte-list fast path yet)
// and a megabyte forwarded both ways exceeds the guest's 30 s budget.
constexpr size_t kLargeBody = stratus::test_support::kSanitized ? 256 * 1024 : 1024 * 1024;

TEST_P(FetchTest, ALargePostIsForwardedBothWaysIntact) {
  start({"127.0.0.1"});
  std::string body(kLargeBody + 17, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7) % 26);
  auto res = ask(port_, http::verb::post, "/echo", {{"X-Upstream", upstream_.authority()}}, body);
  EXPECT_EQ(res.result_int(), 200) << res.body().substr(0, 200);
  EXPECT_EQ(res.body().size(), body.size());
  EXPECT_TRUE(res.body() == body);
  EXPECT_EQ(upstream_.last().method, "POST");
  EXPECT_EQ(upstream_.last().body_size, body.size());
}

TEST_P(FetchTest, ARequestBodyWrittenBeforeTheRequestIsSentGoesOutWhole) {
  start({"127.0.0.1"});
  std::string body(kLargeBody + 5, 'y');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('A' + (i * 3) % 26);
  auto res = ask(port_, http::verb::put, "/echo",
                 {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "body-first"}}, body);
  EXPECT_EQ(res.result_int(), 200) << res.body().substr(0, 200);
  EXPECT_TRUE(res.body() == body);
  EXPECT_EQ(upstream_.last().method, "PUT");
  EXPECT_EQ(upstream_.last().body_size, body.size());
}

TEST_P(FetchTest, ABodyShorterThanItsContentLengthIsARequestBodySizeError) {
  start({"127.0.0.1"});
  auto res =
      ask(port_, http::verb::get, "/echo", {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "wrong-length"}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "HTTP-request-body-size\n");
}

TEST_P(FetchTest, AHostNotAllowedIsDeniedAndNeverContacted) {
  start({"example.com", "*.example.org"});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", upstream_.authority()}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "HTTP-request-denied\n");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(upstream_.connections(), 0u);
}

TEST_P(FetchTest, NothingGrantedMeansNothingReachable) {
  start({});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", upstream_.authority()}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "HTTP-request-denied\n");
  EXPECT_EQ(upstream_.connections(), 0u);
}

TEST_P(FetchTest, AClosedPortIsConnectionRefused) {
  start({"127.0.0.1"});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", "127.0.0.1:" + std::to_string(closed_port())}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "connection-refused\n");
}

TEST_P(FetchTest, AnUpstreamThatNeverAnswersHitsTheFirstByteTimeout) {
  start({"127.0.0.1"});
  auto begin = std::chrono::steady_clock::now();
  auto res = ask(port_, http::verb::get, "/never",
                 {{"X-Upstream", upstream_.authority()}, {"X-First-Byte-Timeout-Ms", "300"}});
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "connection-read-timeout\n");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 10s);
  EXPECT_EQ(upstream_.last().target, "/never");
}

TEST_P(FetchTest, TheResponseBodyStreamsThroughAsItArrives) {
  start({"127.0.0.1"});
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  timeval tv{10, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = "GET /stream HTTP/1.1\r\nhost: 127.0.0.1\r\nx-upstream: " + upstream_.authority() +
                    "\r\nconnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(req));
  std::string got;
  auto read_until = [&](const std::string& what) {
    char buf[4096];
    beast::error_code ec;
    while (got.find(what) == std::string::npos) {
      size_t n = socket.read_some(asio::buffer(buf), ec);
      if (ec) return false;
      got.append(buf, n);
    }
    return true;
  };
  // The first piece reaches the client while the upstream still holds the rest.
  ASSERT_TRUE(read_until("first\n")) << got;
  EXPECT_EQ(got.find("second\n"), std::string::npos);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  upstream_.release();
  EXPECT_TRUE(read_until("second\n")) << got;
}

TEST_P(FetchTest, AStalledBodyHitsTheBetweenBytesTimeout) {
  start({"127.0.0.1"});
  auto res =
      ask(port_, http::verb::get, "/stall",
          {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "trailers"}, {"X-Between-Bytes-Timeout-Ms", "300"}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "connection-read-timeout\n");
}

TEST_P(FetchTest, AConnectThatGetsNoAnswerHitsTheConnectTimeout) {
  // A listener that never accepts, its queue full: the kernel drops further
  // SYNs, so a connect neither succeeds nor fails.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(listener, 0), 0) << std::strerror(errno);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // queued, or dropped: either way it fills
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);
  start({"127.0.0.1"});
  auto begin = std::chrono::steady_clock::now();
  auto res = ask(port_, http::verb::get, "/hello",
                 {{"X-Upstream", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port))},
                  {"X-Connect-Timeout-Ms", "300"},
                  {"X-First-Byte-Timeout-Ms", "2000"}});
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "connection-timeout\n");
  EXPECT_LT(took, 1500ms);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_P(FetchTest, HttpsToATrustedCertificateWorks) {
  TlsUpstream tls(TestCertificates::trusted);
  start({"127.0.0.1"});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", tls.authority()}, {"X-Scheme", "https"}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.body(), "hello over tls\n");
  EXPECT_FALSE(tls.handshake_failed());
}

TEST_P(FetchTest, HttpsToAnUntrustedCertificateIsATlsCertificateError) {
  TlsUpstream tls(TestCertificates::untrusted);
  start({"127.0.0.1"});
  auto res = ask(port_, http::verb::get, "/hello", {{"X-Upstream", tls.authority()}, {"X-Scheme", "https"}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "TLS-certificate-error\n");
}

TEST_P(FetchTest, TrailersOfAChunkedResponseReachTheGuest) {
  start({"127.0.0.1"});
  auto res =
      ask(port_, http::verb::get, "/trailers", {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "trailers"}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res.body(), "5 bytes\nx-checksum: abc\n");
}

TEST_P(FetchTest, TrailersOfABodyLeftUnreadResolveAsIncomplete) {
  start({"127.0.0.1"});
  auto res = ask(port_, http::verb::get, "/big",
                 {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "partial-trailers"}});
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_EQ(res.body(), "HTTP-response-incomplete\n");
  EXPECT_TRUE(eventually([] { return wasi::p2::outbound_http_requests_running() == 0; }));
}

TEST_P(FetchTest, DroppingTheFutureEarlyEndsTheRequestAndTheServerGoesOn) {
  start({"127.0.0.1"});
  auto res =
      ask(port_, http::verb::get, "/never", {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "drop-future"}});
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "dropped the future\n");
  EXPECT_TRUE(eventually([] { return wasi::p2::outbound_http_requests_running() == 0; }))
      << wasi::p2::outbound_http_requests_running() << " outbound requests still running";
  auto again = ask(port_, http::verb::get, "/hello", {{"X-Upstream", upstream_.authority()}});
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_EQ(again.body(), "hello from upstream\n");
}

TEST_P(FetchTest, DroppingTheBodyMidStreamEndsTheRequestAndTheServerGoesOn) {
  start({"127.0.0.1"});
  auto res =
      ask(port_, http::verb::get, "/big", {{"X-Upstream", upstream_.authority()}, {"X-Fetch-Mode", "drop-body"}});
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body().rfind("dropped the body after ", 0), 0u) << res.body();
  EXPECT_NE(res.body(), "dropped the body after 0 bytes\n");
  // The request's thread let go of the connection: the upstream's 32 MiB
  // write failed part way.
  EXPECT_TRUE(eventually([] { return wasi::p2::outbound_http_requests_running() == 0; }))
      << wasi::p2::outbound_http_requests_running() << " outbound requests still running";
  EXPECT_TRUE(eventually([&] { return upstream_.big_cut_short(); }));
  auto again = ask(port_, http::verb::get, "/hello", {{"X-Upstream", upstream_.authority()}});
  EXPECT_EQ(again.result_int(), 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, FetchTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

TEST(HostAllowed, MatchesNamesWildcardsAndPorts) {
  using wasi::p2::host_allowed;
  EXPECT_FALSE(host_allowed({}, "example.com", 80));
  EXPECT_TRUE(host_allowed({"example.com"}, "example.com", 80));
  EXPECT_TRUE(host_allowed({"example.com"}, "EXAMPLE.com", 8080));
  EXPECT_FALSE(host_allowed({"example.com"}, "api.example.com", 80));
  EXPECT_TRUE(host_allowed({"*.example.com"}, "api.example.com", 80));
  EXPECT_TRUE(host_allowed({"*.example.com"}, "a.b.example.com", 80));
  EXPECT_FALSE(host_allowed({"*.example.com"}, "example.com", 80));
  EXPECT_FALSE(host_allowed({"*.example.com"}, "badexample.com", 80));
  EXPECT_TRUE(host_allowed({"127.0.0.1:8080"}, "127.0.0.1", 8080));
  EXPECT_FALSE(host_allowed({"127.0.0.1:8080"}, "127.0.0.1", 8081));
  EXPECT_TRUE(host_allowed({"[::1]"}, "::1", 80));
  EXPECT_TRUE(host_allowed({"[::1]:9000"}, "::1", 9000));
}

}  // namespace
}  // namespace stratus::serve

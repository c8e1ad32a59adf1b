#include "observe/otlp/transport.h"

#include <sys/resource.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace stratus::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

void log_to_stderr(const std::string& message) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s stratus: otlp: %s\n", when, message.c_str());
}

}  // namespace

void lower_thread_priority() {
  // Linux: the nice value is per thread, set through its thread id. A
  // failure leaves the thread at its priority, which only costs the host.
  auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  (void)::setpriority(PRIO_PROCESS, tid, std::min(now + 10, 19));
}

Result<OtlpTransport> OtlpTransport::make(const std::string& noun, OtlpSignal signal, std::chrono::milliseconds timeout,
                                          int attempts) {
  auto url = parse_http_url("the OTLP " + noun + " endpoint", signal.url);
  if (!url) return url.error();
  OtlpTransport t;
  t.noun_ = noun;
  t.signal_ = std::move(signal);
  t.url_ = std::move(*url);
  t.timeout_ = timeout;
  t.attempts_ = attempts;
  return t;
}

bool OtlpTransport::send(const std::string& body, size_t count, bool last) {
  auto log = [this](const std::string& m) { log_ ? log_(m) : log_to_stderr(m); };
  const char* content_type = signal_.encoding == OtlpEncoding::kJson ? "application/json" : "application/x-protobuf";
  std::string why;
  auto backoff = std::chrono::milliseconds(200);
  const int attempts = last ? 1 : attempts_;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    asio::io_context io;
    int status = 0;
    beast::error_code error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto executor = io.get_executor();
          tcp::resolver resolver(executor);
          beast::tcp_stream stream(executor);
          stream.expires_after(timeout_);
          auto [ec1, endpoints] =
              co_await resolver.async_resolve(url_.host, url_.port, asio::as_tuple(asio::use_awaitable));
          if (ec1) {
            error = ec1;
            co_return;
          }
          auto [ec2, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
          if (ec2) {
            error = ec2;
            co_return;
          }
          http::request<http::string_body> req{http::verb::post, url_.path, 11};
          req.set(http::field::host, url_.host + ":" + url_.port);
          req.set(http::field::content_type, content_type);
          req.set(http::field::user_agent, "stratus");
          req.body() = body;
          req.prepare_payload();
          auto [ec3, n3] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
          if (ec3) {
            error = ec3;
            co_return;
          }
          beast::flat_buffer buffer;
          http::response<http::string_body> res;
          auto [ec4, n4] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
          if (ec4) {
            error = ec4;
            co_return;
          }
          status = res.result_int();
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        },
        asio::detached);
    io.run();
    if (status >= 200 && status < 300) {
      if (failing_) log("the collector at " + signal_.url + " takes " + noun_ + " again");
      failing_ = false;
      return true;
    }
    bool retryable = status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
    why = status != 0 ? "HTTP " + std::to_string(status) : error.message();
    if (!retryable || attempt == attempts) break;
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  if (!failing_)
    log("cannot send " + (count > 0 ? std::to_string(count) + " " : std::string()) + noun_ + " to " + signal_.url +
        ": " + why + " (dropped; said once until it works again)");
  failing_ = true;
  return false;
}

}  // namespace stratus::observe

#include "observe/metrics_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>

namespace stratus::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A client has this long to send its request and read the answer.
constexpr auto kClientTimeout = std::chrono::seconds(10);

http::response<http::string_body> answer(const MetricsServer::Handlers& handlers,
                                         const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(11);
  res.keep_alive(false);
  res.set(http::field::server, "stratus");
  std::string_view target = req.target();
  std::string path(target.substr(0, target.find('?')));
  auto it = handlers.find(path);
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "only GET and HEAD are served here\n";
  } else if (it == handlers.end()) {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "nothing here at " + path + "; try";
    for (const auto& [p, h] : handlers) res.body() += " " + p;
    res.body() += "\n";
  } else {
    Page page = it->second();
    res.result(http::status::ok);
    res.set(http::field::content_type, page.content_type);
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(page.body);
  }
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

asio::awaitable<void> serve_one(tcp::socket socket, const MetricsServer::Handlers& handlers) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(16 * 1024);
  stream.expires_after(kClientTimeout);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  http::response<http::string_body> res;
  if (ec) {
    if (ec == beast::error::timeout || ec == http::error::end_of_stream) co_return;
    res.version(11);
    res.result(http::status::bad_request);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "bad request: " + ec.message() + "\n";
    res.keep_alive(false);
    res.prepare_payload();
  } else {
    res = answer(handlers, parser.get());
  }
  stream.expires_after(kClientTimeout);
  co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const MetricsServer::Handlers& handlers) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    // Out of descriptors and the like: the listener goes on with the next.
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), serve_one(std::move(socket), handlers), asio::detached);
  }
}

}  // namespace

struct MetricsServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  Handlers handlers;
};

Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& what, const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(what + " '" + addr + "': expected HOST:PORT (such as 127.0.0.1:9090)");
  std::string host = addr.substr(0, colon), port_text = addr.substr(colon + 1);
  int port = -1;
  if (!port_text.empty() && port_text.size() <= 5 && port_text.find_first_not_of("0123456789") == std::string::npos)
    port = std::stoi(port_text);
  if (port < 0 || port > 65535) return make_error(what + " '" + addr + "': the port must be a number from 0 to 65535");
  return std::pair{host, static_cast<uint16_t>(port)};
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& addr, Handlers handlers) {
  auto host_port = parse_host_port("--metrics-addr", addr);
  if (!host_port) return host_port.error();
  auto [host, port] = *host_port;
  beast::error_code ec;
  auto ip = asio::ip::make_address_v4(host, ec);
  if (ec) return make_error("--metrics-addr '" + addr + "': `" + host + "` is not an IPv4 address");
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.handlers = std::move(handlers);
  tcp::endpoint endpoint(ip, port);
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("--metrics-addr: cannot listen on " + addr + ": " + ec.message());
  server->host_ = host;
  server->port_ = impl.acceptor.local_endpoint().port();
  asio::co_spawn(impl.io, accept_loop(impl.acceptor, impl.handlers), asio::detached);
  server->thread_ = std::thread([&impl] {
    try {
      impl.io.run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "stratus: the metrics listener stopped: %s\n", e.what());
    }
  });
  return server;
}

MetricsServer::~MetricsServer() {
  if (impl_) impl_->io.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace stratus::observe

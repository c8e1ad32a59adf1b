#include "oci/http.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>

namespace stratus::oci {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::use_awaitable;

// What an exchange left: a response, or why not.
struct Outcome {
  std::optional<HttpResponse> response;
  std::string error;
};

template <class Stream>
asio::awaitable<void> send_and_read(Stream& stream, beast::tcp_stream& deadline, const HttpRequest& request,
                                    Outcome& out) {
  http::request<http::string_body> req{http::string_to_verb(request.method), request.url.target, 11};
  req.set(http::field::host, request.url.authority());
  req.set(http::field::user_agent, "stratus");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty() || request.method == "PUT" || request.method == "POST") {
    req.body() = request.body;
    req.prepare_payload();
  }
  deadline.expires_after(request.timeout);
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(request.max_body);
  if (request.method == "HEAD") parser.skip(true);
  co_await http::async_read(stream, buffer, parser, use_awaitable);
  HttpResponse r;
  auto& msg = parser.get();
  r.status = msg.result_int();
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.body = std::move(msg.body());
  out.response = std::move(r);
}

asio::awaitable<void> exchange(const HttpRequest& request, ssl::context* tls, Outcome& out) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  beast::tcp_stream tcp(executor);
  tcp.expires_after(request.timeout);
  auto endpoints = co_await resolver.async_resolve(request.url.host, std::to_string(request.url.port), use_awaitable);
  co_await tcp.async_connect(endpoints, use_awaitable);
  if (tls == nullptr) {
    co_await send_and_read(tcp, tcp, request, out);
    beast::error_code ignored;
    tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream&> stream(tcp, *tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), request.url.host.c_str())) {
    out.error = "cannot set TLS server name";
    co_return;
  }
  stream.set_verify_callback(ssl::host_name_verification(request.url.host));
  co_await stream.async_handshake(ssl::stream_base::client, use_awaitable);
  co_await send_and_read(stream, tcp, request, out);
}

}  // namespace

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if ((tls && port == 443) || (!tls && port == 80)) return h;
  return h + ":" + std::to_string(port);
}

std::string Url::text() const { return std::string(tls ? "https://" : "http://") + authority() + target; }

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error("URL '" + std::string(text.substr(0, 200)) + "': " + why);
  };
  Url u;
  std::string_view rest;
  if (text.rfind("https://", 0) == 0) {
    rest = text.substr(8);
  } else if (text.rfind("http://", 0) == 0) {
    u.tls = false;
    u.port = 80;
    rest = text.substr(7);
  } else {
    return bad("not http:// or https://");
  }
  auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!u.target.empty() && u.target.front() == '?') u.target = "/" + u.target;
  if (authority.empty() || authority.find('@') != std::string_view::npos) return bad("no host, or user info");
  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed [");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("junk after ]");
      port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return bad("no host");
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("a control character or space in the path");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return bad("bad port");
    unsigned long n = std::stoul(std::string(port));
    if (n == 0 || n > 65535) return bad("bad port");
    u.port = static_cast<uint16_t>(n);
  }
  return u;
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return {};
}

Result<HttpResponse> http_exchange(const HttpRequest& request) {
  std::optional<ssl::context> tls;
  if (request.url.tls) {
    tls.emplace(ssl::context::tls_client);
    tls->set_default_verify_paths();
    tls->set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  }
  asio::io_context ioc;
  Outcome out;
  std::exception_ptr failure;
  asio::co_spawn(ioc, exchange(request, tls ? &*tls : nullptr, out), [&](const std::exception_ptr& e) { failure = e; });
  ioc.run();
  std::string where = request.method + " " + request.url.text();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
      if (e.code() == beast::error::timeout)
        return make_error(where + ": no answer within " + std::to_string(request.timeout.count()) + " s");
      if (e.code() == http::error::body_limit)
        return make_error(where + ": the response body is longer than " + std::to_string(request.max_body) + " bytes");
      std::string what = e.code().message();
      if (e.code().category() == asio::error::get_ssl_category()) {
        auto reason = ERR_GET_REASON(static_cast<unsigned long>(e.code().value()));
        if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) what = "TLS certificate not trusted or not for this host";
        what = "TLS: " + what;
      }
      return make_error(where + ": " + what);
    } catch (const std::exception& e) {
      return make_error(where + ": " + e.what());
    }
  }
  if (!out.response) return make_error(where + ": " + (out.error.empty() ? "no response" : out.error));
  return std::move(*out.response);
}

}  // namespace stratus::oci

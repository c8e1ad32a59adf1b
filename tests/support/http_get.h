// One HTTP/1.1 request to a server on 127.0.0.1, with a real client
// (Boost.Beast), for tests of servers run as separate processes.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>

namespace stratus::testing {

inline boost::beast::http::response<boost::beast::http::string_body> http_get(uint16_t port,
                                                                              const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res;
}

// A GET / with the traceparent whose ids are printable bytes
// ("stratus-trace-id", "parent-1"): protoc --decode_raw shows them as text.
inline int get_with_traceparent(uint16_t port) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set("traceparent", "00-737472617475732d74726163652d6964-706172656e742d31-01");
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res.result_int();
}

}  // namespace stratus::testing

// bench/http's ceiling: the same hello-world answer as the component, from a
// native Beast server in its simplest fast form (blocking sockets, a thread
// per connection, keep-alive). Usage: native_hello PORT
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: native_hello PORT\n");
    return 2;
  }
  asio::io_context io;
  tcp::acceptor acceptor(
      io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[1]))));
  std::printf("native_hello: listening on %d\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket(io);
    acceptor.accept(socket);
    std::thread([s = std::move(socket)]() mutable {
      beast::flat_buffer buffer;
      beast::error_code ec;
      for (;;) {
        http::request<http::string_body> req;
        http::read(s, buffer, req, ec);
        if (ec) break;
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/plain");
        res.keep_alive(req.keep_alive());
        res.body() = "Hello, stratus!\n";
        res.prepare_payload();
        http::write(s, res, ec);
        if (ec || !req.keep_alive()) break;
      }
      s.shutdown(tcp::socket::shutdown_both, ec);
    }).detach();
  }
}

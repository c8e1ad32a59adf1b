// An OTLP/HTTP receiver on loopback for the tests: it answers every POST
// with 200 (or the status set_status asks for) and keeps each body with its
// path and content type.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stratus::test_support {

class OtlpReceiver {
 public:
  struct Post {
    std::string path, content_type, body;
  };

  OtlpReceiver() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~OtlpReceiver() {
    done_ = true;
    try {  // wakes the accept
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    } catch (const std::exception&) {
    }
    thread_.join();
  }
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_status(unsigned status) { status_ = status; }
  // The posts to `path` so far, once there are `n` (waiting up to `limit`).
  std::vector<Post> posts(const std::string& path, size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    auto count = [&] {
      size_t k = 0;
      for (const auto& p : posts_) k += p.path == path ? 1 : 0;
      return k;
    };
    got_.wait_for(lock, limit, [&] { return count() >= n; });
    std::vector<Post> out;
    for (const auto& p : posts_)
      if (p.path == path) out.push_back(p);
    return out;
  }
  // Waits until some post to `path` satisfies `want` (up to `limit`); whether one did.
  template <typename F>
  bool wait_for(const std::string& path, std::chrono::milliseconds limit, F want) {
    std::unique_lock lock(mu_);
    return got_.wait_for(lock, limit, [&] {
      for (const auto& p : posts_)
        if (p.path == path && want(p)) return true;
      return false;
    });
  }

 private:
  void serve() {
    namespace http = boost::beast::http;
    while (!done_) {
      boost::beast::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || done_) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      if (req.method() == http::verb::post) {
        std::lock_guard lock(mu_);
        posts_.push_back(
            Post{std::string(req.target()), std::string(req[http::field::content_type]), std::move(req.body())});
        got_.notify_all();
      }
      http::response<http::string_body> res{static_cast<http::status>(status_.load()), 11};
      res.set(http::field::content_type, "application/x-protobuf");
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<unsigned> status_{200};
  std::mutex mu_;
  std::condition_variable got_;
  std::vector<Post> posts_;
  std::thread thread_;
};

}  // namespace stratus::test_support

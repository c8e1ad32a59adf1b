// The listener of --metrics-addr: a small HTTP/1.1 server (Boost.Beast over
// Asio, one thread of its own, one request per connection) that answers
// GET for the paths it was given and 404 for the rest. It serves operators
// and scrapers, not guests' traffic, so it stays apart from serve/'s server.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "support/result.h"

namespace stratus::observe {

struct Page {
  std::string content_type;
  std::string body;
};

class MetricsServer {
 public:
  // Paths ("/metrics") to what answers them; called on the server's thread.
  using Handlers = std::map<std::string, std::function<Page()>>;
  // Binds HOST:PORT (IPv4; port 0: any free port). Errors: the address is
  // malformed or cannot be bound (what and why).
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& addr, Handlers handlers);
  ~MetricsServer();  // stops and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  struct Impl;
  MetricsServer() = default;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::string host_;
  uint16_t port_ = 0;
};

// "HOST:PORT" split and checked; errors name the flag (`what`) and the value.
Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& what, const std::string& addr);

}  // namespace stratus::observe

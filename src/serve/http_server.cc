#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "component/runtime/runtime.h"
#include "wasi/p2/http.h"
#include "wasi/p2/wasi.h"

namespace stratus::serve {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using wasi::p2::StreamFailure;

namespace {

void log(const std::string& message) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s stratus serve: %s\n", when, message.c_str());
}

using Parser = http::request_parser<http::buffer_body>;

// The request body as the guest reads it, straight from the connection.
class RequestBody final : public wasi::p2::InputStream {
 public:
  RequestBody(tcp::socket& socket, boost::beast::flat_buffer& buffer, Parser& parser)
      : socket_(socket), buffer_(buffer), parser_(parser) {}

  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool) override {
    if (parser_.is_done()) return StreamFailure::end();
    std::vector<uint8_t> out(static_cast<size_t>(std::min<uint64_t>(len, 64 * 1024)));
    if (out.empty()) return out;
    auto& body = parser_.get().body();
    body.data = out.data();
    body.size = out.size();
    boost::beast::error_code ec;
    http::read_some(socket_, buffer_, parser_, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return StreamFailure{false, ec.value(), "reading the request body: " + ec.message()};
    out.resize(out.size() - body.size);
    if (out.empty() && parser_.is_done()) return StreamFailure::end();
    return out;
  }
  wasi::p2::Pollable subscribe() override { return wasi::p2::Pollable{}; }

 private:
  tcp::socket& socket_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
};

// Where the guest's response goes. What the guest writes is gathered and
// sent when it flushes, finishes the body, or has written 64 KiB: a small
// response (head, body, end of the chunked body) leaves in one or two sends
// instead of one per piece. Unflushed writes may wait, as wasi:io allows.
class ConnectionSink final : public wasi::p2::ResponseSink {
 public:
  ConnectionSink(tcp::socket& socket, bool keep_alive, bool head_request)
      : socket_(socket), keep_alive_(keep_alive), head_request_(head_request) {}

  std::optional<StreamFailure> start(uint16_t status, const wasi::p2::HttpFields& headers) override {
    std::string& head = out_;
    head += "HTTP/1.1 " + std::to_string(status) + " " +
            std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\r\n";
    bool has_length = false;
    for (const auto& [name, value] : headers.entries) {
      if (boost::beast::iequals(name, "content-length")) has_length = true;
      head.append(name).append(": ").append(value.begin(), value.end()).append("\r\n");
    }
    chunked_ = !has_length && !head_request_ && status != 204 && status != 304;
    if (chunked_) head += "transfer-encoding: chunked\r\n";
    head += keep_alive_ ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n";
    started_ = true;
    return std::nullopt;
  }

  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (broken_ || finished_) return StreamFailure::end();
    if (bytes.empty() || head_request_) return std::nullopt;
    if (chunked_) {
      char size[24];
      std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
      out_ += size;
    }
    out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (chunked_) out_ += "\r\n";
    if (out_.size() >= kGather) return flush();
    return std::nullopt;
  }

  std::optional<StreamFailure> flush() override {
    if (broken_) return StreamFailure::end();
    if (out_.empty()) return std::nullopt;
    auto failure = send(out_);
    out_.clear();
    return failure;
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    if (chunked_) out_ += "0\r\n\r\n";
    flush();
  }

  void fail(const std::string& why) override {
    failure_ = why;
    if (!sent_) {
      error_response(500, "the component answered with an error: " + why);
    } else {
      broken_ = true;  // a response already under way cannot turn into an error: cut the connection
    }
  }

  void error_response(int status, const std::string& message) {
    std::string body = message + "\n";
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                       std::string(http::obsolete_reason(static_cast<http::status>(status))) +
                       "\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: " + std::to_string(body.size()) +
                       (keep_alive_ ? "\r\nconnection: keep-alive\r\n\r\n" : "\r\nconnection: close\r\n\r\n");
    started_ = finished_ = true;
    out_.clear();
    send(head + (head_request_ ? "" : body));
  }

  bool started() const { return started_; }
  bool finished() const { return finished_; }
  // Whether any of the response went out: until then a failure can still be
  // answered with an error response instead.
  bool sent() const { return sent_; }
  bool broken() const { return broken_; }
  const std::string& failure() const { return failure_; }

 private:
  std::optional<StreamFailure> send(std::string_view bytes) {
    if (broken_) return StreamFailure::end();
    sent_ = true;
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec) {
      broken_ = true;
      return StreamFailure{false, ec.value(), "writing the response: " + ec.message()};
    }
    return std::nullopt;
  }

  static constexpr size_t kGather = 64 * 1024;
  tcp::socket& socket_;
  bool keep_alive_;
  bool head_request_;
  std::string out_;  // gathered, not yet sent: the head, then body bytes as framed
  bool started_ = false, finished_ = false, chunked_ = false, broken_ = false, sent_ = false;
  std::string failure_;
};

}  // namespace

// One instance at a time, made (or reset) ahead of the request it will serve.
class HttpServer::Worker {
 public:
  Worker(engine::Engine& engine, const ServeOptions& options) : wasi_(options.wasi), linker_(engine) {
    instantiate_options_.limits.call_timeout = options.timeout;
  }

  Result<void> init() { return wasi_.add_to_linker(linker_); }

  // The instance that served the last request is reset in place when its
  // call returned and the engine can (the aot backend): as fresh as a new
  // one, at a fraction of the cost. Otherwise it is instantiated anew.
  Result<void> prepare(const component::ComponentPtr& component, const wasi::p2::WasiConfig& config) {
    wasi_.reset(config);
    if (instance_ && !fresh_) {
      if (instance_->reset().ok()) {
        fresh_ = true;
        return {};
      }
      instance_.reset();
    }
    auto instance = linker_.instantiate(component, instantiate_options_);
    if (!instance) return std::move(instance).error();
    instance_ = std::move(*instance);
    fresh_ = true;
    return {};
  }

  // Runs the guest's handler for `request`; the response goes to `sink`.
  // A trap or an error comes back as its message.
  std::optional<std::string> handle(const std::string& handler, wasi::p2::IncomingRequest request,
                                    ConnectionSink& sink) {
    if (!instance_ || !fresh_) return std::string("no instance was ready");
    fresh_ = false;
    auto& instance = instance_;
    auto& ctx = wasi_.ctx();
    uint32_t req = ctx.incoming_requests.add(std::make_shared<wasi::p2::IncomingRequest>(std::move(request)));
    uint32_t out = ctx.response_outparams.add(
        std::make_shared<wasi::p2::ResponseOutparam>(wasi::p2::ResponseOutparam{&sink, false}));
    static const std::string kRequest = std::string(kTypes) + "#incoming-request";
    static const std::string kOutparam = std::string(kTypes) + "#response-outparam";
    auto req_type = wasi_.resource_type(kRequest);
    auto out_type = wasi_.resource_type(kOutparam);
    std::vector<component::Val> args = {component::Val::own(component::ResourceRef{req_type, req}),
                                        component::Val::own(component::ResourceRef{out_type, out})};
    auto outcome = instance->call(handler, args);
    if (outcome.trapped()) return "trap: " + outcome.trap().message;
    if (outcome.failed()) return outcome.error().message;
    return std::nullopt;
  }

 private:
  static constexpr const char* kTypes = "wasi:http/types@0.2.12";
  wasi::p2::WasiHost wasi_;
  component::Linker linker_;
  component::InstantiateOptions instantiate_options_;
  std::shared_ptr<component::ComponentInstance> instance_;
  bool fresh_ = false;  // instance_ has not served a request since it was made or reset
};

HttpServer::HttpServer(engine::Engine& engine, component::ComponentPtr component, ServeOptions options,
                       std::string handler)
    : engine_(engine), component_(std::move(component)), options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  stop();
  for (auto& [id, t] : threads_)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(engine::Engine& engine, component::ComponentPtr component,
                                                       ServeOptions options) {
  std::string handler;
  for (const auto& e : component->type->exports)
    if (e.name.rfind("wasi:http/incoming-handler@0.2.", 0) == 0) handler = e.name + "#handle";
  if (handler.empty())
    return make_error("the component does not export wasi:http/incoming-handler@0.2.x (it is not a wasi:http proxy)");
  auto server = std::unique_ptr<HttpServer>(new HttpServer(engine, std::move(component), std::move(options), handler));
  // One worker up front: a component the host cannot instantiate fails here,
  // not on the first request.
  auto worker = server->checkout();
  if (!worker) return make_error("cannot instantiate the component");
  server->give_back(std::move(worker));
  if (server->idle_.empty()) return make_error("cannot instantiate the component");
  return server;
}

std::unique_ptr<HttpServer::Worker> HttpServer::checkout() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto w = std::move(idle_.back());
      idle_.pop_back();
      return w;
    }
    if (workers_ < options_.max_workers) break;
    worker_freed_.wait(lock);
  }
  ++workers_;
  lock.unlock();
  auto w = std::make_unique<Worker>(engine_, options_);
  auto ok = w->init();
  if (ok) ok = w->prepare(component_, options_.wasi);
  if (!ok) {
    log("cannot make an instance: " + ok.error().message);
    std::lock_guard relock(mu_);
    --workers_;
    return nullptr;
  }
  return w;
}

void HttpServer::give_back(std::unique_ptr<Worker> worker) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(worker));
  worker_freed_.notify_one();
}

Result<uint16_t> HttpServer::listen() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  if (::inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return make_error("--addr: `" + options_.host + "` is not an IPv4 address");
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 512) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return make_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + why);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  listen_fd_ = fd;
  return ntohs(addr.sin_port);
}

void HttpServer::run() {
  while (!stopping_.load()) {
    if (options_.stop_flag != nullptr && options_.stop_flag->load()) {
      stop();
      break;
    }
    reap_finished();
    pollfd p{listen_fd_, POLLIN, 0};
    // A short poll, so that stop() (or a signal's flag) is seen promptly.
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    connections_.insert(fd);
    std::thread t([this, fd] { serve_connection(fd); });
    auto id = t.get_id();
    threads_.emplace(id, std::move(t));
  }
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::map<std::thread::id, std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& [id, t] : threads)
    if (t.joinable()) t.join();
}

// Joins the threads of connections that ended, so a long-running server
// does not keep their stacks.
void HttpServer::reap_finished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    for (auto id : finished_) {
      auto it = threads_.find(id);
      if (it == threads_.end()) continue;
      done.push_back(std::move(it->second));
      threads_.erase(it);
    }
    finished_.clear();
  }
  for (auto& t : done) t.join();
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  std::lock_guard lock(mu_);
  // Idle keep-alive connections wake up from their read and close; busy
  // ones finish the request under way and then close.
  for (int fd : connections_) ::shutdown(fd, SHUT_RD);
}

void HttpServer::serve_connection(int fd) {
  timeval tv{static_cast<time_t>(options_.timeout.count() / 1000),
             static_cast<suseconds_t>((options_.timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(tcp::v4(), fd, ec);
  boost::beast::flat_buffer buffer;
  // Beast reads as much as the buffer has room for (at least 512 bytes):
  // room for 64 KiB lets a request body come in large pieces.
  buffer.reserve(64 * 1024);
  while (!ec && !stopping_.load()) {
    Parser parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options_.max_request_body);
    http::read_header(socket, buffer, parser, ec);
    if (ec) {
      if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset &&
          ec != asio::error::would_block && ec != asio::error::try_again) {
        counters_.bad_requests++;
        ConnectionSink bad(socket, false, false);
        bad.error_response(400, "bad request: " + ec.message());
      }
      break;
    }
    auto& req = parser.get();
    bool keep_alive = req.keep_alive() && !stopping_.load();
    bool head = req.method() == http::verb::head;
    ConnectionSink sink(socket, keep_alive, head);

    wasi::p2::IncomingRequest request;
    request.method = std::string(req.method_string());
    request.path_with_query = std::string(req.target());
    request.headers = std::make_shared<wasi::p2::HttpFields>();
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::string value(field.value());
      if (boost::beast::iequals(name, "host")) request.authority = value;
      request.headers->entries.emplace_back(name, std::vector<uint8_t>(value.begin(), value.end()));
    }
    request.headers->immutable = true;
    request.body = std::make_shared<RequestBody>(socket, buffer, parser);

    counters_.requests++;
    auto worker = checkout();
    if (!worker) {
      sink.error_response(503, "no instance of the component is available");
      break;
    }
    auto problem = worker->handle(handler_, std::move(request), sink);
    if (problem) {
      counters_.guest_traps++;
      log(std::string(req.method_string()) + " " + std::string(req.target()) + ": " + *problem);
      if (!sink.sent()) sink.error_response(500, "the component failed: " + *problem);
    } else if (!sink.started()) {
      sink.error_response(500, sink.failure().empty() ? "the component sent no response" : sink.failure());
    } else if (!sink.finished() && !sink.sent()) {
      sink.error_response(500, "the component did not finish the response body");
    }
    // The next instance is made now that the client has its answer, off
    // the next request's path.
    auto ready = worker->prepare(component_, options_.wasi);
    if (ready) {
      give_back(std::move(worker));
    } else {
      log("cannot make an instance: " + ready.error().message);
      std::lock_guard lock(mu_);
      --workers_;
      worker_freed_.notify_one();
    }
    if (sink.started() && !sink.finished()) {
      log(std::string(req.method_string()) + " " + std::string(req.target()) +
          ": the component did not finish the response body");
      break;
    }
    if (sink.broken() || !keep_alive) break;
    // Whatever of the body the guest did not read is skipped, so the next
    // request on this connection starts where it should.
    while (!parser.is_done()) {
      char sink_buf[16 * 1024];
      parser.get().body().data = sink_buf;
      parser.get().body().size = sizeof sink_buf;
      http::read_some(socket, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) break;
    }
  }
  {
    // Forget the fd before closing it: a new connection may get its number.
    std::lock_guard lock(mu_);
    connections_.erase(fd);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  std::lock_guard lock(mu_);
  finished_.push_back(std::this_thread::get_id());
}

}  // namespace stratus::serve

#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "component/runtime/runtime.h"
#include "wasi/p2/http.h"
#include "wasi/p2/wasi.h"
#include "wasi/p3/http.h"

namespace stratus::serve {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using wasi::p2::StreamFailure;
using Clock = std::chrono::steady_clock;

// A connection's socket (non-blocking) as Beast's sync algorithms see it.
// Waiting, reads and writes wait up to the timeout for each piece (a
// slow client gets that long between bytes, as with SO_RCVTIMEO); not
// waiting, a read with nothing to take fails with would_block, and the
// connection goes back to the event loop with what it has read so far.
class HttpServer::Stream {
 public:
  Stream(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  void set_waiting(bool waiting) { waiting_ = waiting; }
  // Whether the last read took all the socket had (it got less than it
  // asked for, or nothing): what comes later is a new edge for epoll.
  bool drained() const { return drained_; }

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    ec = {};
    std::array<iovec, 8> iov{};
    size_t n = 0;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && n < iov.size();
         ++it) {
      asio::mutable_buffer b = *it;
      if (b.size() > 0) iov[n++] = {b.data(), b.size()};
    }
    if (n == 0) return 0;
    size_t asked = 0;
    for (size_t i = 0; i < n; ++i) asked += iov[i].iov_len;
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = n;
    for (;;) {
      ssize_t got = ::recvmsg(fd_, &msg, 0);
      drained_ = got < 0 || static_cast<size_t>(got) < asked;
      if (got > 0) return static_cast<size_t>(got);
      if (got == 0) {
        ec = asio::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
      if (!waiting_) {
        ec = asio::error::would_block;
        return 0;
      }
      if (!wait(POLLIN, ec)) return 0;
    }
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Sends all of `bytes`, waiting for room as needed.
  void write_all(std::string_view bytes, boost::system::error_code& ec) {
    ec = {};
    while (!bytes.empty()) {
      ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent >= 0) {
        bytes.remove_prefix(static_cast<size_t>(sent));
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec.assign(errno, boost::system::system_category());
        return;
      }
      if (!wait(POLLOUT, ec)) return;
    }
  }

 private:
  // Waits for `events` up to the timeout; false (and ec set) if it passed.
  bool wait(short events, boost::system::error_code& ec) {
    auto deadline = Clock::now() + timeout_;
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, events, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) {
        ec.assign(errno, boost::system::system_category());
        return false;
      }
    }
    ec = asio::error::timed_out;
    return false;
  }

  int fd_;
  std::chrono::milliseconds timeout_;
  bool waiting_ = true;
  bool drained_ = true;
};

namespace {

void log_to_stderr(const std::string& message) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s stratus serve: %s\n", when, message.c_str());
}

using Parser = http::request_parser<http::buffer_body>;
using Stream = HttpServer::Stream;

// The request body as the guest reads it, straight from the connection.
class RequestBody final : public wasi::p2::InputStream {
 public:
  RequestBody(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser)
      : stream_(stream), buffer_(buffer), parser_(parser) {}

  std::variant<std::vector<uint8_t>, StreamFailure> read(uint64_t len, bool) override {
    if (parser_.is_done()) return StreamFailure::end();
    std::vector<uint8_t> out(static_cast<size_t>(std::min<uint64_t>(len, 64 * 1024)));
    if (out.empty()) return out;
    auto& body = parser_.get().body();
    body.data = out.data();
    body.size = out.size();
    boost::beast::error_code ec;
    // The client may wait for what the guest flushed before it sends more.
    wasi::p2::before_blocking();
    http::read_some(stream_, buffer_, parser_, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return StreamFailure{false, ec.value(), "reading the request body: " + ec.message()};
    out.resize(out.size() - body.size);
    if (out.empty() && parser_.is_done()) return StreamFailure::end();
    return out;
  }
  wasi::p2::Pollable subscribe() override { return wasi::p2::Pollable{}; }

 private:
  Stream& stream_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
};

// Where the guest's response goes. What the guest writes is gathered and
// sent when it finishes the body, has written 64 KiB, or has flushed and is
// about to wait (for the request body, a poll, ...: deliver() runs then, see
// answer): a small response (head, body, end of the chunked body)
// leaves in one send, as a native server's does, and a streaming one still
// reaches the client before the guest sleeps.
class ConnectionSink final : public wasi::p2::ResponseSink {
 public:
  ConnectionSink(Stream& stream, bool keep_alive, bool head_request)
      : stream_(stream), keep_alive_(keep_alive), head_request_(head_request) {}

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
    if (out_.size() >= kGather) return send_gathered();
    return std::nullopt;
  }

  std::optional<StreamFailure> flush() override {
    if (broken_) return StreamFailure::end();
    flushed_ = true;
    return std::nullopt;
  }

  // Sends what the guest flushed, if it flushed anything not sent yet.
  void deliver() {
    if (flushed_) send_gathered();
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    if (chunked_) out_ += "0\r\n\r\n";
    send_gathered();
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
  std::optional<StreamFailure> send_gathered() {
    flushed_ = false;
    if (out_.empty()) return std::nullopt;
    auto failure = send(out_);
    out_.clear();
    return failure;
  }

  std::optional<StreamFailure> send(std::string_view bytes) {
    if (broken_) return StreamFailure::end();
    sent_ = true;
    boost::system::error_code ec;
    stream_.write_all(bytes, ec);
    if (ec) {
      broken_ = true;
      return StreamFailure{false, ec.value(), "writing the response: " + ec.message()};
    }
    return std::nullopt;
  }

  static constexpr size_t kGather = 64 * 1024;
  Stream& stream_;
  bool keep_alive_;
  bool head_request_;
  std::string out_;  // gathered, not yet sent: the head, then body bytes as framed
  bool started_ = false, finished_ = false, chunked_ = false, broken_ = false, sent_ = false;
  bool flushed_ = false;  // the guest flushed since the last send
  std::string failure_;
};

}  // namespace

// One instance at a time, made (or reset) ahead of the request it will serve.
class HttpServer::Worker {
 public:
  Worker(engine::Engine& engine, const ServeOptions& options, const Route& route)
      : wasi_(route.wasi), linker_(engine), timeout_(options.timeout) {
    instantiate_options_.limits.call_timeout = options.timeout;
    instantiate_options_.limits.max_memory_bytes = route.max_memory_bytes;
    instantiate_options_.max_handles = route.max_handles;
    instantiate_options_.allow_sync_cancel_in_waitable_set = true;  // runtime.h: older toolchains' components
  }

  Result<void> init(const Route& route) {
    STRATUS_TRY(wasi_.add_to_linker(linker_));
    if (route.extend) {
      auto extension = route.extend(linker_, wasi_);
      if (!extension) return std::move(extension).error();
      extension_ = std::move(*extension);
    }
    return {};
  }

  // The instance that served the last request is reset in place when its
  // call returned and the engine can (the aot backend): as fresh as a new
  // one, at a fraction of the cost. Otherwise it is instantiated anew.
  Result<void> prepare(const Route& route) {
    wasi_.reset(route.wasi);
    if (extension_) STRATUS_TRY(extension_->prepare());
    if (instance_ && !fresh_) {
      // A WASI 0.3 instance may hold tasks and streams its last request
      // left: it is made anew, not reset in place.
      if (!async_ && instance_->reset().ok()) {
        fresh_ = true;
        return {};
      }
      instance_.reset();
    }
    auto instance = linker_.instantiate(route.component, instantiate_options_);
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
    ++invocations_;
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

  // The same for a wasi:http/handler@0.3.x: the guest gets a request and
  // answers with a response (or an error-code); its head goes out at once,
  // its body as the guest writes it, possibly after the call returned. Work
  // the guest goes on with after that runs to its end before the worker
  // serves again (within the call timeout).
  std::optional<std::string> handle_p3(const std::string& handler, wasi::p2::IncomingRequest request,
                                       ConnectionSink& sink) {
    if (!instance_ || !fresh_) return std::string("no instance was ready");
    fresh_ = false;
    async_ = true;
    ++invocations_;
    auto& ctx = wasi_.ctx();
    uint32_t req = wasi::p3::add_served_request(ctx, std::move(request));
    auto req_type = wasi_.resource_type("wasi:http/types@0.3.0#request");
    std::vector<component::Val> args = {component::Val::own(component::ResourceRef{req_type, req})};
    auto outcome = instance_->call(handler, args);
    if (outcome.trapped()) return "trap: " + outcome.trap().message;
    if (outcome.failed()) return outcome.error().message;
    const auto& r = outcome.result();
    if (!r || r->kind() != component::ValKind::Result || r->payload() == nullptr)
      return std::string("the handler returned no response");
    if (r->discriminant() == 1) {
      sink.fail("the handler answered with an error-code (case " + std::to_string(r->payload()->discriminant()) + ")");
      return std::nullopt;
    }
    auto guarded = std::make_shared<GuardedSink>(sink);
    auto ended = std::make_shared<std::optional<std::optional<std::string>>>();
    wasi::p3::send_response(ctx, r->payload()->as_handle().rep, guarded,
                            [ended](std::optional<std::string> why) { *ended = std::move(why); });
    auto stopped = linker_.run_until([&ended] { return ended->has_value(); }, timeout_);
    guarded->detach();
    if (stopped) return "while sending the response: " + stopped->message;
    if (**ended) return **ended;
    if (auto after = linker_.run_until_idle(timeout_)) return "after the response: " + after->message;
    return std::nullopt;
  }

  uint64_t invocations() const { return invocations_; }

 private:
  // The connection's sink for as long as the request is under way: a body
  // the guest is still writing after that goes nowhere.
  class GuardedSink final : public wasi::p2::ResponseSink {
   public:
    explicit GuardedSink(wasi::p2::ResponseSink& sink) : sink_(&sink) {}
    void detach() { sink_ = nullptr; }
    std::optional<wasi::p2::StreamFailure> start(uint16_t status, const wasi::p2::HttpFields& headers) override {
      if (!sink_) return wasi::p2::StreamFailure::end();
      return sink_->start(status, headers);
    }
    std::optional<wasi::p2::StreamFailure> write(std::span<const uint8_t> bytes) override {
      if (!sink_) return wasi::p2::StreamFailure::end();
      return sink_->write(bytes);
    }
    std::optional<wasi::p2::StreamFailure> flush() override {
      if (!sink_) return wasi::p2::StreamFailure::end();
      return sink_->flush();
    }
    void finish() override {
      if (sink_) sink_->finish();
    }
    void fail(const std::string& why) override {
      if (sink_) sink_->fail(why);
    }

   private:
    wasi::p2::ResponseSink* sink_;
  };

  static constexpr const char* kTypes = "wasi:http/types@0.2.12";
  // Declared first, destroyed last: the linker's functions and the
  // instance call into what the extension holds.
  std::unique_ptr<InstanceExtension> extension_;
  wasi::p2::WasiHost wasi_;
  component::Linker linker_;
  component::InstantiateOptions instantiate_options_;
  std::shared_ptr<component::ComponentInstance> instance_;
  bool fresh_ = false;  // instance_ has not served a request since it was made or reset
  bool async_ = false;  // it served a WASI 0.3 request
  uint64_t invocations_ = 0;
  std::chrono::milliseconds timeout_;
};

// A route and its pool of workers.
struct HttpServer::Target {
  explicit Target(Route r) : route(std::move(r)) {}
  Route route;
  std::string handler;  // "wasi:http/incoming-handler@0.2.x#handle" or "wasi:http/handler@0.3.x#handle"
  bool p3 = false;      // the latter
  std::mutex mu;
  std::condition_variable freed;
  std::vector<std::unique_ptr<Worker>> idle;
  size_t workers = 0;
  size_t waiting = 0;  // requests in checkout waiting for a worker
};

// A client's connection. It is in the epoll set (edge-triggered) from
// accept to close. Between requests it is parked; an event for it makes the
// thread that gets it the owner until it parks it again or closes it;
// events while it is owned are counted, and the owner reads again before
// parking. The fields marked (mu_) are read and written under the server's
// mu_; the rest are the owner's.
struct HttpServer::Connection {
  Connection(uint64_t id, int fd, std::chrono::milliseconds timeout) : id(id), fd(fd), stream(fd, timeout) {}
  const uint64_t id;
  const int fd;
  Stream stream;
  boost::beast::flat_buffer buffer;
  std::optional<Parser> parser;      // the request whose head is coming in
  Clock::time_point head_started{};  // when the first of its head came (epoch: not yet)
  int events = 0;                    // (mu_) 0: parked; else owned, with this many events since
  bool timed_out = false;            // (mu_) it was parked past its deadline
  Clock::time_point deadline{};      // (mu_) while parked: when it times out
};

// A serving thread.
struct HttpServer::Thread {
  std::thread thread;
  // When the request under way began (steady clock, ns); 0: none is.
  std::atomic<int64_t> busy_since{0};
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The Host header without its port ("Example.com:8080" -> "example.com").
std::string host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') return lower(host.substr(0, host.find(']') + 1));
  return lower(host.substr(0, host.find(':')));
}

std::string normal_prefix(std::string prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix == "/" ? std::string() : prefix;
}

// Whether `path` (query and all) is at or under `prefix` ("/api" takes
// "/api", "/api/x" and "/api?q", not "/apix").
bool under(std::string_view path, const std::string& prefix) {
  if (prefix.empty()) return true;
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/' || path[prefix.size()] == '?';
}

// Whatever of the body the guest did not read is skipped, so the next
// request on this connection starts where it should.
void skip_body(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser, boost::beast::error_code& ec) {
  while (!parser.is_done()) {
    char sink_buf[16 * 1024];
    parser.get().body().data = sink_buf;
    parser.get().body().size = sizeof sink_buf;
    http::read_some(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) break;
  }
}

// A thread held up this long by one request counts as held up.
constexpr auto kHeldUp = std::chrono::milliseconds(5);
// At most this many serving threads.
constexpr size_t kMaxThreads = 1024;
// A serving thread beyond the first ones ends after this long without work.
constexpr int kIdleThreadMs = 10'000;
// epoll's data for wake_fd_ and nudge_fd_ (connection ids start at 1).
constexpr uint64_t kWakeId = 0;
constexpr uint64_t kNudgeId = UINT64_MAX;
// The most events a thread takes from epoll at once: the connections past
// the first wait in ready_ for it (or another thread) to serve them.
constexpr int kEventBatch = 16;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

}  // namespace

HttpServer::HttpServer(engine::Engine& engine, ServeOptions options)
    : engine_(engine), options_(std::move(options)), base_threads_(std::max(2u, std::thread::hardware_concurrency())) {}

HttpServer::~HttpServer() {
  stop();
  std::vector<std::unique_ptr<Thread>> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  if (!threads.empty() && wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  for (auto& t : threads)
    if (t->thread.joinable()) t->thread.join();
  reap_finished();
  for (auto& [id, c] : connections_) ::close(c->fd);
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_, nudge_fd_})
    if (fd >= 0) ::close(fd);
}

std::unique_ptr<HttpServer> HttpServer::create_router(engine::Engine& engine, ServeOptions options) {
  return std::unique_ptr<HttpServer>(new HttpServer(engine, std::move(options)));
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(engine::Engine& engine, component::ComponentPtr component,
                                                       ServeOptions options) {
  Route route;
  route.name = "the component";
  route.component = std::move(component);
  route.wasi = options.wasi;
  route.max_workers = options.max_workers;
  auto server = create_router(engine, std::move(options));
  STRATUS_TRY(server->add_route(std::move(route)));
  return server;
}

Result<void> HttpServer::add_route(Route route) {
  route.host = host_name(route.host);
  route.path_prefix = normal_prefix(route.path_prefix);
  if (!route.path_prefix.empty() && route.path_prefix.front() != '/')
    return make_error("the path prefix `" + route.path_prefix + "` does not start with /");
  std::string handler;
  bool p3 = false;
  for (const auto& e : route.component->type->exports) {
    if (e.name.rfind("wasi:http/incoming-handler@0.2.", 0) == 0) handler = e.name + "#handle";
    if (e.name.rfind("wasi:http/handler@0.3.", 0) == 0) {
      handler = e.name + "#handle";
      p3 = true;
    }
  }
  if (handler.empty())
    return make_error(
        "the component does not export wasi:http/incoming-handler@0.2.x or wasi:http/handler@0.3.x (it is not a "
        "wasi:http proxy)");
  {
    std::shared_lock lock(routes_mu_);
    for (const auto& t : targets_) {
      if (t->route.host == route.host && t->route.path_prefix == route.path_prefix) {
        return make_error("the route " + (route.host.empty() ? std::string("*") : route.host) +
                          (route.path_prefix.empty() ? "/" : route.path_prefix) + " is " + t->route.name + "'s");
      }
    }
  }
  auto target = std::make_shared<Target>(std::move(route));
  target->handler = std::move(handler);
  target->p3 = p3;
  if (target->route.max_workers == 0) target->route.max_workers = 1;
  // The warm workers are made now: a component the host cannot instantiate
  // fails here, not on the first request.
  size_t warm = std::clamp<size_t>(target->route.warm_workers, 1, target->route.max_workers);
  std::vector<std::unique_ptr<Worker>> made;
  for (size_t i = 0; i < warm; ++i) {
    ++target->workers;
    auto w = std::make_unique<Worker>(engine_, options_, target->route);
    auto ok = w->init(target->route);
    if (ok) ok = w->prepare(target->route);
    if (!ok) return make_error("cannot instantiate the component: " + ok.error().message);
    made.push_back(std::move(w));
  }
  target->idle = std::move(made);
  std::unique_lock lock(routes_mu_);
  // Most specific first: a named host before any host, then the longest prefix.
  auto at = std::find_if(targets_.begin(), targets_.end(), [&](const std::shared_ptr<Target>& t) {
    if (t->route.host.empty() != target->route.host.empty()) return t->route.host.empty();
    return t->route.path_prefix.size() < target->route.path_prefix.size();
  });
  targets_.insert(at, std::move(target));
  return {};
}

void HttpServer::remove_route(const std::string& name) {
  std::unique_lock lock(routes_mu_);
  std::erase_if(targets_, [&](const std::shared_ptr<Target>& t) { return t->route.name == name; });
}

std::shared_ptr<HttpServer::Target> HttpServer::match(std::string_view host, std::string_view path) const {
  std::string name = host_name(host);
  std::shared_lock lock(routes_mu_);
  for (const auto& t : targets_) {
    if (!t->route.host.empty() && t->route.host != name) continue;
    if (under(path, t->route.path_prefix)) return t;
  }
  return nullptr;
}

std::string HttpServer::not_found(std::string_view host, std::string_view path) const {
  std::string body = "stratus: nothing here serves " + std::string(host.empty() ? "(no host)" : host) +
                     std::string(path.substr(0, 256)) + "\n";
  std::shared_lock lock(routes_mu_);
  if (targets_.empty()) return body + "No workload serves HTTP yet.";
  body += "The routes are (host, path prefix -> workload):";
  for (const auto& t : targets_) {
    body += "\n  " + (t->route.host.empty() ? std::string("*") : t->route.host) + " " +
            (t->route.path_prefix.empty() ? std::string("/") : t->route.path_prefix) + " -> " + t->route.name;
  }
  return body;
}

void HttpServer::log(const std::string& message) const {
  if (options_.log)
    options_.log(message);
  else
    log_to_stderr(message);
}

std::unique_ptr<HttpServer::Worker> HttpServer::checkout(Target& target, std::string& why) {
  std::unique_lock lock(target.mu);
  const size_t max_waiting = target.route.max_waiting != 0 ? target.route.max_waiting : 4 * target.route.max_workers;
  bool waited = false;
  for (;;) {
    if (!target.idle.empty()) {
      auto w = std::move(target.idle.back());
      target.idle.pop_back();
      if (waited) --target.waiting;
      return w;
    }
    if (target.workers < target.route.max_workers) break;
    if (!waited && target.waiting >= max_waiting) {
      why = "the component is busy: " + std::to_string(target.route.max_workers) + " requests run (its limit) and " +
            std::to_string(target.waiting) + " wait";
      log(target.route.name + ": refused a request: " + why);
      return nullptr;
    }
    if (!waited) ++target.waiting;
    waited = true;
    target.freed.wait(lock);
  }
  if (waited) --target.waiting;
  ++target.workers;
  lock.unlock();
  auto w = std::make_unique<Worker>(engine_, options_, target.route);
  auto ok = w->init(target.route);
  if (ok) ok = w->prepare(target.route);
  if (!ok) {
    why = "no instance of the component is available";
    log(target.route.name + ": cannot make an instance: " + ok.error().message);
    retire(target);
    return nullptr;
  }
  return w;
}

void HttpServer::give_back(Target& target, std::unique_ptr<Worker> worker) {
  std::lock_guard lock(target.mu);
  target.idle.push_back(std::move(worker));
  target.freed.notify_one();
}

// A worker that will not come back: room for a new one.
void HttpServer::retire(Target& target) {
  std::lock_guard lock(target.mu);
  --target.workers;
  target.freed.notify_one();
}

Result<uint16_t> HttpServer::listen() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
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
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int nudge_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event wake{};
  wake.events = EPOLLIN;  // level-triggered: every thread sees it
  wake.data.u64 = kWakeId;
  epoll_event nudge{};
  nudge.events = EPOLLIN | EPOLLET;  // one thread per write
  nudge.data.u64 = kNudgeId;
  if (epoll_fd < 0 || wake_fd < 0 || nudge_fd < 0 || ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0 ||
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, nudge_fd, &nudge) != 0) {
    std::string why = std::strerror(errno);
    for (int f : {fd, epoll_fd, wake_fd, nudge_fd})
      if (f >= 0) ::close(f);
    return make_error("cannot set up the event loop: " + why);
  }
  listen_fd_ = fd;
  epoll_fd_ = epoll_fd;
  wake_fd_ = wake_fd;
  nudge_fd_ = nudge_fd;
  return ntohs(addr.sin_port);
}

void HttpServer::run() {
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < base_threads_; ++i) start_thread();
  }
  while (!stopping_.load()) {
    if (options_.stop_flag != nullptr && options_.stop_flag->load()) {
      stop();
      break;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    // A short poll, so that stop() (or a signal's flag) is seen promptly;
    // shorter while requests are under way, to see threads held up.
    if (::poll(&p, 1, busy_threads_.load() > 0 ? 5 : 100) > 0) accept_ready();
    watch();
  }
  ::close(listen_fd_);
  listen_fd_ = -1;
  // Connections accepted while stop() went through them end now too; the
  // requests under way finish.
  {
    std::unique_lock lock(mu_);
    for (auto& [id, c] : connections_) ::shutdown(c->fd, SHUT_RD);
  }
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (all_closed_.wait_for(lock, kHeldUp, [this] { return connections_.empty(); })) break;
    }
    watch();
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  std::vector<std::unique_ptr<Thread>> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads)
    if (t->thread.joinable()) t->thread.join();
  reap_finished();
}

// Takes every connection waiting to be accepted into the epoll set.
void HttpServer::accept_ready() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // Out of fds or memory: the listener stays readable, so wait a little
      // rather than spin; the connections wait in the backlog.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    auto c = std::make_shared<Connection>(next_connection_++, fd, options_.timeout);
    c->deadline = Clock::now() + options_.timeout;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = c->id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    connections_.emplace(c->id, std::move(c));
  }
}

// One more serving thread (mu_ held).
void HttpServer::start_thread() {
  auto t = std::make_unique<Thread>();
  Thread* self = t.get();
  try {
    t->thread = std::thread([this, self] { work(*self); });
  } catch (const std::system_error& e) {
    log(std::string("cannot start a serving thread: ") + e.what());
    return;
  }
  threads_.push_back(std::move(t));
}

// A serving thread: it serves the connections in ready_ and, when there
// are none, waits for events. Under load one epoll_wait brings several
// connections, which the thread then serves without sleeping in between
// (another thread may take them from ready_ meanwhile).
void HttpServer::work(Thread& self) {
  std::array<epoll_event, kEventBatch> events{};
  for (;;) {
    auto connection = next_ready();
    if (!connection) {
      int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), kIdleThreadMs);
      if (n < 0 && errno != EINTR) {
        log(std::string("epoll_wait: ") + std::strerror(errno));
        return;
      }
      if (n == 0 && retire_thread(self)) return;
      if (n <= 0) continue;
      bool done = false;
      connection = take(std::span(events.data(), static_cast<size_t>(n)), done);
      if (done && !connection) return;  // the server is done
      if (!connection) continue;
    }
    busy_threads_++;
    self.busy_since.store(now_ns(), std::memory_order_relaxed);
    serve(*connection);
    self.busy_since.store(0, std::memory_order_relaxed);
    busy_threads_--;
  }
}

// Whether `self`, idle, ends (the first threads stay); if so it is handed
// to run's thread to join.
bool HttpServer::retire_thread(Thread& self) {
  std::lock_guard lock(mu_);
  if (threads_.size() <= base_threads_ || stopping_.load()) return false;
  auto it = std::find_if(threads_.begin(), threads_.end(), [&](const auto& t) { return t.get() == &self; });
  if (it == threads_.end()) return false;
  finished_.push_back(std::move(self.thread));
  threads_.erase(it);  // `self` is gone: the caller returns at once
  return true;
}

// Run's thread, between polls: one more serving thread when every one has
// been held up by its request for a while (guests waiting or computing), so
// the other connections are served; parked connections past their deadline
// are woken to close (shut for reading, the event loop hands them to a
// thread that sees the end and, for a head cut short, answers 408).
void HttpServer::watch() {
  reap_finished();
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  const int64_t held_since = now_ns() - std::chrono::nanoseconds(kHeldUp).count();
  bool all_held = !threads_.empty();
  for (const auto& t : threads_) {
    int64_t since = t->busy_since.load(std::memory_order_relaxed);
    if (since == 0 || since > held_since) {
      all_held = false;
      break;
    }
  }
  if (all_held && threads_.size() < kMaxThreads) start_thread();
  // Connections left in ready_ by a thread now held up go to an idle one.
  if (!ready_.empty() && !all_held) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(nudge_fd_, &one, sizeof one);
  }
  if (now - last_sweep_ < std::chrono::milliseconds(100)) return;
  last_sweep_ = now;
  for (auto& [id, c] : connections_) {
    if (c->events > 0 || c->timed_out || c->deadline > now) continue;
    c->timed_out = true;
    ::shutdown(c->fd, SHUT_RD);
  }
}

// Counts `events` on their connections: a parked one becomes owned and
// goes to ready_ (one closed meanwhile is not found; one already owned is
// read again by its owner before it is parked). Returns the first of
// ready_, now the caller's, or null; `done` if the server is done.
std::shared_ptr<HttpServer::Connection> HttpServer::take(std::span<const epoll_event> events, bool& done) {
  std::lock_guard lock(mu_);
  for (const auto& ev : events) {
    const uint64_t id = ev.data.u64;  // a copy: epoll_event is packed, its u64 unaligned
    if (id == kWakeId) {
      done = true;
      continue;
    }
    if (id == kNudgeId) {
      uint64_t count = 0;
      [[maybe_unused]] auto n = ::read(nudge_fd_, &count, sizeof count);
      continue;
    }
    auto it = connections_.find(id);
    if (it != connections_.end() && it->second->events++ == 0) ready_.push_back(it->second);
  }
  return pop_ready();
}

std::shared_ptr<HttpServer::Connection> HttpServer::next_ready() {
  std::lock_guard lock(mu_);
  return pop_ready();
}

// The first of ready_, taken off it (mu_ held); null if it is empty.
std::shared_ptr<HttpServer::Connection> HttpServer::pop_ready() {
  if (ready_.empty()) return nullptr;
  auto c = std::move(ready_.front());
  ready_.pop_front();
  return c;
}

// Joins the threads that ended, so a long-running server does not keep
// their stacks.
void HttpServer::reap_finished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    done.swap(finished_);
  }
  for (auto& t : done)
    if (t.joinable()) t.join();
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  std::lock_guard lock(mu_);
  // Parked connections wake up (their reads see the end) and close; busy
  // ones finish the request under way and then close.
  for (auto& [id, c] : connections_) ::shutdown(c->fd, SHUT_RD);
}

// Reads request heads off `c` as they come and answers them, until it has
// no whole head (it goes back to the epoll set) or closes.
void HttpServer::serve(Connection& c) {
  for (;;) {
    if (!c.parser) {
      c.parser.emplace();
      c.parser->header_limit(64 * 1024);
      c.parser->body_limit(options_.max_request_body);
      c.head_started = {};
    }
    boost::beast::error_code ec;
    c.stream.set_waiting(false);
    http::read_header(c.stream, c.buffer, *c.parser, ec);
    c.stream.set_waiting(true);
    if (ec == asio::error::would_block) {
      if (c.buffer.size() > 0 && c.head_started == Clock::time_point{}) c.head_started = Clock::now();
      if (stopping_.load() && c.head_started == Clock::time_point{}) break;
      if (park(c)) return;
      continue;  // more came meanwhile
    }
    if (ec) {
      bool timed_out = false;
      {
        std::lock_guard lock(mu_);
        timed_out = c.timed_out;
      }
      ConnectionSink reply(c.stream, false, false);
      if (timed_out && c.head_started != Clock::time_point{}) {
        reply.error_response(
            408, "the request head did not arrive within " + std::to_string(options_.timeout.count()) + " ms");
      } else if (!timed_out && !stopping_.load() && ec != http::error::end_of_stream && ec != asio::error::eof &&
                 ec != asio::error::connection_reset) {
        counters_.bad_requests++;
        reply.error_response(400, "bad request: " + ec.message());
      }
      break;
    }
    bool go_on = answer(c);
    c.parser.reset();
    if (!go_on || stopping_.load()) break;
    // Without a next request already read (pipelined) or left unread, the
    // connection is parked: no read that would find nothing.
    if (c.buffer.size() == 0 && c.stream.drained() && park(c)) return;
  }
  close(c);
}

// Answers the request whose head `c` has read; whether the connection goes on.
bool HttpServer::answer(Connection& c) {
  auto& parser = *c.parser;
  auto& req = parser.get();
  bool keep_alive = req.keep_alive() && !stopping_.load();
  bool head = req.method() == http::verb::head;
  ConnectionSink sink(c.stream, keep_alive, head);
  boost::beast::error_code ec;

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
  request.body = std::make_shared<RequestBody>(c.stream, c.buffer, parser);

  counters_.requests++;
  auto target = match(request.authority, request.path_with_query);
  if (!target) {
    sink.error_response(404, not_found(request.authority, request.path_with_query));
    if (!keep_alive) return false;
    skip_body(c.stream, c.buffer, parser, ec);
    return !ec;
  }
  std::string why;
  auto worker = checkout(*target, why);
  if (!worker) {
    sink.error_response(503, why);
    return false;
  }
  std::optional<std::string> problem;
  {
    wasi::p2::BeforeBlocking deliver_first([&sink] { sink.deliver(); });
    problem = target->p3 ? worker->handle_p3(target->handler, std::move(request), sink)
                         : worker->handle(target->handler, std::move(request), sink);
  }
  sink.deliver();
  if (problem) {
    counters_.guest_traps++;
    log(target->route.name + ": " + std::string(req.method_string()) + " " + std::string(req.target()) + ": " +
        *problem);
    if (!sink.sent()) sink.error_response(500, "the component failed: " + *problem);
  } else if (!sink.started()) {
    sink.error_response(500, sink.failure().empty() ? "the component sent no response" : sink.failure());
  } else if (!sink.finished() && !sink.sent()) {
    sink.error_response(500, "the component did not finish the response body");
  }
  // The next instance is made now that the client has its answer, off
  // the next request's path; a worker that served its max_invocations
  // goes, and a new one is made when needed.
  uint64_t limit = target->route.max_invocations;
  if (limit != 0 && worker->invocations() >= limit) {
    worker.reset();
    retire(*target);
  } else if (auto ready = worker->prepare(target->route); ready) {
    give_back(*target, std::move(worker));
  } else {
    log(target->route.name + ": cannot make an instance: " + ready.error().message);
    worker.reset();
    retire(*target);
  }
  if (sink.started() && !sink.finished()) {
    log(std::string(req.method_string()) + " " + std::string(req.target()) +
        ": the component did not finish the response body");
    return false;
  }
  if (sink.broken() || !keep_alive) return false;
  skip_body(c.stream, c.buffer, parser, ec);
  return !ec;
}

// Parks `c` until more of a request comes (or the deadline: a head's
// comes from its first byte, an idle connection's from now); false if
// events came while it was owned: the caller reads again instead.
bool HttpServer::park(Connection& c) {
  auto from = c.head_started != Clock::time_point{} ? c.head_started : Clock::now();
  std::lock_guard lock(mu_);
  if (c.events > 1) {
    c.events = 1;
    return false;
  }
  c.events = 0;
  c.deadline = from + options_.timeout;
  return true;
}

void HttpServer::close(Connection& c) {
  ::shutdown(c.fd, SHUT_RDWR);
  {
    // Forget it before closing its fd: a new connection may get the number.
    std::lock_guard lock(mu_);
    connections_.erase(c.id);
    if (connections_.empty()) all_closed_.notify_all();
  }
  ::close(c.fd);
}

}  // namespace stratus::serve

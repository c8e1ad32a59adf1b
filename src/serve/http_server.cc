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
#include "observe/current_span.h"
#include "serve/connection_io.h"
#include "serve/request_trace.h"
#include "serve/route_metrics.h"
#include "serve/worker.h"
#include "wasi/p2/http.h"
#include "wasi/p2/wasi.h"

namespace stratus::serve {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

void log_to_stderr(const std::string& message) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s stratus serve: %s\n", when, message.c_str());
}

}  // namespace

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
  size_t waiting = 0;                     // requests in checkout waiting for a worker
  std::unique_ptr<RouteMetrics> metrics;  // with ServeOptions::metrics
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
    : engine_(engine), options_(std::move(options)), base_threads_(std::max(2u, std::thread::hardware_concurrency())) {
  if (options_.metrics != nullptr) {
    instruments_ = std::make_unique<ServeInstruments>(*options_.metrics);
    // Instance counts are read when scraped, not kept on the request path.
    collector_ = options_.metrics->on_collect([this] {
      auto& family = instruments_->instances;
      family.clear();
      for (const auto& r : route_stats()) {
        family.with({r.workload, r.component, "live"}).set(static_cast<double>(r.live));
        family.with({r.workload, r.component, "pooled"}).set(static_cast<double>(r.pooled));
      }
    });
  }
}

HttpServer::~HttpServer() {
  if (options_.metrics != nullptr) options_.metrics->remove_collector(collector_);
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
  route.name = options.component_name;
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
  if (route.workload_name.empty()) route.workload_name = route.name;
  if (route.component_name.empty()) route.component_name = route.name;
  auto target = std::make_shared<Target>(std::move(route));
  if (instruments_) {
    target->metrics = std::make_unique<RouteMetrics>(
        *instruments_, target->route.workload_name, target->route.component_name,
        target->route.path_prefix.empty() ? std::string("/") : target->route.path_prefix);
  }
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

std::vector<RouteStats> HttpServer::route_stats() const {
  std::vector<std::shared_ptr<Target>> targets;
  {
    std::shared_lock lock(routes_mu_);
    targets = targets_;
  }
  std::vector<RouteStats> out;
  for (const auto& t : targets) {
    RouteStats r;
    r.name = t->route.name;
    r.workload = t->route.workload_name;
    r.component = t->route.component_name;
    r.route = (t->route.host.empty() ? std::string("*") : t->route.host) +
              (t->route.path_prefix.empty() ? std::string("/") : t->route.path_prefix);
    {
      std::lock_guard lock(t->mu);
      r.live = t->workers;
      r.pooled = t->idle.size();
    }
    if (t->metrics) {
      r.invocations = t->metrics->invocations();
      r.traps = t->metrics->traps();
      r.last_minute = t->metrics->last_minute();
    }
    out.push_back(std::move(r));
  }
  return out;
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

void HttpServer::log(observe::Severity severity, const std::string& message) const {
  if (options_.log)
    options_.log(severity, message);
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
      log(observe::Severity::kWarn, target.route.name + ": refused a request: " + why);
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
    log(observe::Severity::kError, target.route.name + ": cannot make an instance: " + ok.error().message);
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
    log(observe::Severity::kError, std::string("cannot start a serving thread: ") + e.what());
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
        log(observe::Severity::kError, std::string("epoll_wait: ") + std::strerror(errno));
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
  std::optional<Finishing> finishing;
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
      if (park(c)) {
        // The last request's worker finishes once the connection is
        // another thread's to serve.
        if (finishing) finish_worker(*finishing);
        return;
      }
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
    // A request came before the connection was parked: the last one's
    // worker finishes here first. Not on another thread: its guest's
    // parked fibers must resume on the thread they ran on (aot code keeps
    // thread-local state across a park; ThreadSanitizer caught a fiber
    // resumed elsewhere writing this thread's).
    if (finishing) finish_worker(*finishing);
    finishing.reset();
    bool go_on = answer(c, finishing);
    c.parser.reset();
    if (!go_on || stopping_.load()) break;
    // Without a next request already read (pipelined) or left unread, the
    // connection is parked: no read that would find nothing.
    if (c.buffer.size() == 0 && c.stream.drained() && park(c)) {
      if (finishing) finish_worker(*finishing);
      return;
    }
  }
  close(c);
  if (finishing) finish_worker(*finishing);
}

// Answers the request whose head `c` has read; whether the connection goes on.
bool HttpServer::answer(Connection& c, std::optional<Finishing>& finishing) {
  const auto began = Clock::now();
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
  std::optional<observe::SpanData> span;
  if (options_.traces != nullptr) {
    span = begin_server_span(req["traceparent"], req["tracestate"]);
    // The guest's outgoing calls continue from this span.
    auto& entries = request.headers->entries;
    std::erase_if(entries, [](const auto& e) { return boost::beast::iequals(e.first, "traceparent"); });
    observe::TraceContext context{span->trace_id, span->span_id, span->flags, {}};
    std::string header = observe::format_traceparent(context);
    entries.emplace_back("traceparent", std::vector<uint8_t>(header.begin(), header.end()));
  }
  request.headers->immutable = true;
  auto body = std::make_shared<RequestBody>(c.stream, c.buffer, parser);
  request.body = body;
  request.trailers = [body] { return body->trailers(); };
  // Whatever of the guest still holds the body once this returns finds it over.
  struct Detach {
    RequestBody& body;
    ~Detach() { body.detach(); }
  } detach{*body};

  counters_.requests++;
  auto target = match(request.authority, request.path_with_query);
  // The request's measurement ends with this function, whichever way it
  // returns (the rest of the body skipped is part of the request).
  struct Measure {
    RouteMetrics* metrics;
    const ConnectionSink& sink;
    std::string_view method;
    Clock::time_point began;
    observe::TraceExporter* traces;
    std::optional<observe::SpanData>& span;
    const Target* target;
    std::string_view path, host;
    bool invoked = false, trapped = false;
    ~Measure() {
      if (metrics != nullptr)
        metrics->end(method, sink.status(), std::chrono::duration<double>(Clock::now() - began).count(), invoked,
                     trapped);
      if (span) {
        std::string route;
        if (target != nullptr) route = target->route.path_prefix.empty() ? "/" : target->route.path_prefix;
        end_server_span(*span, ServedRequest{method, path, host, sink.status(), target ? &route : nullptr,
                                             target ? target->route.workload_name : std::string_view(),
                                             target ? target->route.component_name : std::string_view(), trapped});
        traces->submit(std::move(*span));
      }
    }
  } measure{target && target->metrics ? target->metrics.get() : nullptr,
            sink,
            req.method_string(),
            began,
            options_.traces,
            span,
            target.get(),
            req.target(),
            req[http::field::host]};
  if (measure.metrics != nullptr) measure.metrics->begin();
  if (!target) {
    sink.error_response(404, not_found(request.authority, request.path_with_query));
    if (instruments_) {
      instruments_->request_duration.with({std::string(method_label(req.method_string())), "404", "", ""})
          .observe(std::chrono::duration<double>(Clock::now() - began).count());
    }
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
  measure.invoked = true;
  // The component's invocation, a span under the server span. What runs
  // in it works under its scope (observe/current_span.h), which stays,
  // with the worker, until what the guest goes on with has settled: a
  // parked fiber keeps a pointer to it.
  observe::Span invocation;
  std::unique_ptr<observe::TraceScope> invocation_scope;
  if (span) {
    observe::TraceScope server{options_.traces, {span->trace_id, span->span_id, span->flags, span->trace_state}};
    invocation = invocation_span(server, target->route, target->handler);
    invocation_scope = std::make_unique<observe::TraceScope>(*invocation.scope());
  }
  {
    wasi::p2::BeforeBlocking deliver_first([&sink] { sink.deliver(); });
    observe::CurrentSpan current(invocation_scope.get());
    problem = target->p3 ? worker->handle_p3(target->handler, std::move(request), sink)
                         : worker->handle(target->handler, std::move(request), sink);
  }
  sink.deliver();
  if (problem) invocation.fail(*problem, "trap");
  invocation.end();
  if (problem) {
    counters_.guest_traps++;
    measure.trapped = true;
    log(observe::Severity::kError, target->route.name + ": " + std::string(req.method_string()) + " " +
                                       std::string(req.target()) + ": " + *problem);
    if (!sink.sent()) sink.error_response(500, "the component failed: " + *problem);
  } else if (!sink.started()) {
    sink.error_response(500, sink.failure().empty() ? "the component sent no response" : sink.failure());
  } else if (!sink.finished() && !sink.sent()) {
    sink.error_response(500, "the component did not finish the response body");
  }
  // What is left of the worker's work (a WASI 0.3 guest's tasks after
  // its response) and its next instance wait until the connection has
  // moved on (serve, finish_worker).
  finishing = Finishing{target, std::move(worker), std::string(req.method_string()) + " " + std::string(req.target()),
                        std::move(invocation_scope)};
  if (sink.started() && !sink.finished()) {
    log(observe::Severity::kWarn, std::string(req.method_string()) + " " + std::string(req.target()) +
                                      ": the component did not finish the response body");
    return false;
  }
  if (sink.broken() || !keep_alive) return false;
  skip_body(c.stream, c.buffer, parser, ec);
  return !ec;
}

// After a request's response: what the worker's guest still does, then
// the next instance, made off the next request's path; a worker that
// served its max_invocations goes, and a new one is made when needed.
void HttpServer::finish_worker(Finishing& f) {
  Target& target = *f.target;
  auto worker = std::move(f.worker);
  std::optional<std::string> settled;
  {
    observe::CurrentSpan current(f.trace.get());
    settled = worker->settle();
  }
  if (auto& problem = settled) {
    counters_.guest_traps++;
    log(observe::Severity::kError, target.route.name + ": " + f.request + ": after the response: " + *problem);
  }
  uint64_t limit = target.route.max_invocations;
  if (limit != 0 && worker->invocations() >= limit) {
    worker.reset();
    retire(target);
  } else if (auto ready = worker->prepare(target.route); ready) {
    give_back(target, std::move(worker));
  } else {
    log(observe::Severity::kError, target.route.name + ": cannot make an instance: " + ready.error().message);
    worker.reset();
    retire(target);
  }
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

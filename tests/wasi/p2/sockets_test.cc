// wasi:sockets end to end: tests/wasi/p2/guests/sockets.cc (a C++ command
// on the generated guest bindings) on both backends, against servers this
// test runs on 127.0.0.1 and ::1 on ephemeral ports: a TCP echo server, a
// TCP client for the guest's listener, a UDP responder. Each exchange runs
// once granted and once not (the guest must see access-denied, the server
// nothing). Then the policy's rules and the CLI's parsing of them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/grants.h"
#include "engine/engine.h"
#include "tests/support/component_file.h"
#include "wasi/p2/wasi.h"

namespace stratus::wasi::p2 {
namespace {

// ---------------------------------------------------------------- host side

struct Fd {
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

sockaddr_storage loopback(bool v6, uint16_t port) {
  sockaddr_storage s{};
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&s);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&s);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
  }
  return s;
}
socklen_t length_of(bool v6) { return v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in); }

// A socket of `type` bound to the loopback address on an ephemeral port;
// -1 when that cannot be done (no ::1 on this machine).
int bound_socket(bool v6, int type, uint16_t* port) {
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  auto addr = loopback(v6, 0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), length_of(v6)) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port =
      ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

bool have_ipv6_loopback() {
  uint16_t port = 0;
  Fd fd(bound_socket(true, SOCK_STREAM, &port));
  return fd.fd >= 0;
}

// Echoes every byte on every connection until stopped; counts connections.
class TcpEchoServer {
 public:
  explicit TcpEchoServer(bool v6 = false) : listener_(bound_socket(v6, SOCK_STREAM, &port)) {
    if (listener_.fd < 0 || ::listen(listener_.fd, 16) != 0 || ::pipe2(stop_, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "cannot start the echo server: " << std::strerror(errno);
      return;
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~TcpEchoServer() {
    if (thread_.joinable()) {
      char c = 0;
      (void)::write(stop_[1], &c, 1);
      thread_.join();
    }
    for (int fd : stop_)
      if (fd >= 0) ::close(fd);
  }
  TcpEchoServer(const TcpEchoServer&) = delete;
  TcpEchoServer& operator=(const TcpEchoServer&) = delete;

  uint16_t port = 0;
  std::atomic<int> connections{0};

 private:
  void loop() {
    std::vector<int> clients;
    for (;;) {
      std::vector<pollfd> fds{{stop_[0], POLLIN, 0}, {listener_.fd, POLLIN, 0}};
      for (int c : clients) fds.push_back({c, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;
      if (fds[0].revents) break;
      if (fds[1].revents) {
        int c = ::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          clients.push_back(c);
          ++connections;
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        char buf[4096];
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n > 0) {
          (void)::send(fds[i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
        } else {
          ::close(fds[i].fd);
          std::erase(clients, fds[i].fd);
        }
      }
    }
    for (int c : clients) ::close(c);
  }

  Fd listener_;
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

// Answers each datagram with "pong:" and the datagram; counts them.
class UdpResponder {
 public:
  explicit UdpResponder(bool v6 = false) : sock_(bound_socket(v6, SOCK_DGRAM, &port)) {
    if (sock_.fd < 0 || ::pipe2(stop_, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "cannot start the UDP responder: " << std::strerror(errno);
      return;
    }
    thread_ = std::thread([this] {
      for (;;) {
        pollfd fds[2] = {{stop_[0], POLLIN, 0}, {sock_.fd, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[0].revents) return;
        char buf[2048];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(sock_.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) continue;
        ++datagrams;
        std::string reply = "pong:" + std::string(buf, static_cast<size_t>(n));
        (void)::sendto(sock_.fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    });
  }
  ~UdpResponder() {
    if (thread_.joinable()) {
      char c = 0;
      (void)::write(stop_[1], &c, 1);
      thread_.join();
    }
    for (int fd : stop_)
      if (fd >= 0) ::close(fd);
  }
  UdpResponder(const UdpResponder&) = delete;
  UdpResponder& operator=(const UdpResponder&) = delete;

  uint16_t port = 0;
  std::atomic<int> datagrams{0};

 private:
  Fd sock_;
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

// The guest's stdout, watched: a test thread can wait for a line to appear
// while the guest runs.
class WatchedOutput final : public OutputStream {
 public:
  std::variant<uint64_t, StreamFailure> check_write() override { return uint64_t{65536}; }
  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    std::lock_guard lock(mutex_);
    contents_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    changed_.notify_all();
    return std::nullopt;
  }
  Pollable subscribe() override { return Pollable{}; }

  std::string contents() {
    std::lock_guard lock(mutex_);
    return contents_;
  }
  // The rest of the first line starting with `prefix`, once there is one.
  std::optional<std::string> wait_for_line(const std::string& prefix, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<std::string> found;
    changed_.wait_for(lock, timeout, [&] {
      auto at = contents_.find(prefix);
      if (at == std::string::npos || (at != 0 && contents_[at - 1] != '\n')) return false;
      auto end = contents_.find('\n', at);
      if (end == std::string::npos) return false;
      found = contents_.substr(at + prefix.size(), end - at - prefix.size());
      return true;
    });
    return found;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string contents_;
};

AddressRule rule(const std::string& spec) {
  auto r = parse_address_rule(spec);
  EXPECT_TRUE(r.ok()) << spec << ": " << r.error().message;
  return r.ok() ? *r : AddressRule{};
}

// ---------------------------------------------------------------- the guest

struct GuestRun {
  int exit_code = -1;
  std::optional<engine::Trap> trap;
  std::string out;
};

class SocketsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    auto component = testing::read_component(STRATUS_SOCKETS_COMPONENT);
    ASSERT_TRUE(component.ok()) << component.error().message;
    guest_ = *component;
  }

  // Runs the guest's scenario `args` with `policy`; stdout goes to `out`.
  GuestRun run(std::vector<std::string> args, SocketPolicy policy, std::shared_ptr<WatchedOutput> out = nullptr) {
    if (!out) out = std::make_shared<WatchedOutput>();
    WasiConfig config;
    config.args = {"sockets"};
    config.args.insert(config.args.end(), args.begin(), args.end());
    config.sockets = std::move(policy);
    config.stdout_stream = out;
    auto outcome = run_command(*engine_, guest_, std::move(config));
    GuestRun r;
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    if (outcome.ok()) {
      r.exit_code = outcome->exit_code;
      r.trap = outcome->trap;
    }
    r.out = out->contents();
    return r;
  }

  std::unique_ptr<engine::Engine> engine_;
  component::ComponentPtr guest_;
};

TEST_P(SocketsTest, TcpConnectsAndEchoesWhenGranted) {
  TcpEchoServer echo;
  SocketPolicy policy;
  policy.connect = {rule("127.0.0.1:" + std::to_string(echo.port))};
  auto r = run({"tcp-echo", "127.0.0.1", std::to_string(echo.port), "hello sockets"}, policy);
  EXPECT_EQ(r.out, "connected\necho: hello sockets\nshutdown: ok\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(echo.connections.load(), 1);
}

TEST_P(SocketsTest, TcpConnectIsDeniedWithoutAGrantForThatPort) {
  TcpEchoServer echo;
  std::vector<std::string> args = {"tcp-echo", "127.0.0.1", std::to_string(echo.port), "hi"};
  auto none = run(args, SocketPolicy{});
  EXPECT_EQ(none.out, "connect: access-denied\n");
  EXPECT_EQ(none.exit_code, 1);

  SocketPolicy other_port;
  other_port.connect = {rule("127.0.0.1:" + std::to_string(echo.port == 65535 ? 1 : echo.port + 1)),
                        rule("[::1]:" + std::to_string(echo.port)), rule("127.0.0.2:*")};
  auto wrong = run(args, other_port);
  EXPECT_EQ(wrong.out, "connect: access-denied\n");
  EXPECT_EQ(echo.connections.load(), 0) << "a denied connect must not reach the server";

  SocketPolicy any_port;
  any_port.connect = {rule("127.0.0.1:*")};
  EXPECT_EQ(run(args, any_port).out, "connected\necho: hi\nshutdown: ok\n");
}

TEST_P(SocketsTest, TcpConnectReportsARefusedConnection) {
  // A port bound but not listening: nobody else can take it, nobody answers.
  uint16_t port = 0;
  Fd closed(bound_socket(false, SOCK_STREAM, &port));
  ASSERT_GE(closed.fd, 0);
  SocketPolicy policy;
  policy.connect = {rule("127.0.0.1:" + std::to_string(port))};
  EXPECT_EQ(run({"tcp-echo", "127.0.0.1", std::to_string(port), "x"}, policy).out, "connect: connection-refused\n");
}

TEST_P(SocketsTest, TcpAndUdpWorkOverIpv6Loopback) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "this machine has no ::1";
  TcpEchoServer echo(true);
  SocketPolicy policy;
  policy.connect = {rule("[::1]:" + std::to_string(echo.port))};
  auto r = run({"tcp-echo", "::1", std::to_string(echo.port), "over v6"}, policy);
  EXPECT_EQ(r.out, "connected\necho: over v6\nshutdown: ok\n");
  // An IPv4 grant for the port does not open IPv6.
  SocketPolicy v4_only;
  v4_only.connect = {rule("127.0.0.1:" + std::to_string(echo.port))};
  EXPECT_EQ(run({"tcp-echo", "::1", std::to_string(echo.port), "x"}, v4_only).out, "connect: access-denied\n");

  UdpResponder peer(true);
  SocketPolicy udp;
  udp.bind = {rule("[::1]:0")};
  udp.connect = {rule("[::1]:" + std::to_string(peer.port))};
  EXPECT_EQ(run({"udp", "::1", std::to_string(peer.port), "ping6"}, udp).out,
            "sent 1\nudp reply: pong:ping6 (from the peer)\n");
}

// Connects to the guest's listener once it prints "listening PORT", after
// `delay`; sends a line and collects the answer until the guest closes.
class ListenerClient {
 public:
  ListenerClient(std::shared_ptr<WatchedOutput> out, std::chrono::milliseconds delay)
      : thread_([this, out, delay] {
          auto line = out->wait_for_line("listening ", std::chrono::seconds(120));
          if (!line) return;
          std::this_thread::sleep_for(delay);
          uint16_t port = static_cast<uint16_t>(std::stoi(line->substr(0, line->find(' '))));
          Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
          auto addr = loopback(false, port);
          if (::connect(fd.fd, reinterpret_cast<sockaddr*>(&addr), length_of(false)) != 0) return;
          std::string hello = "hello guest\n";
          (void)::send(fd.fd, hello.data(), hello.size(), MSG_NOSIGNAL);
          char buf[256];
          for (ssize_t n; (n = ::recv(fd.fd, buf, sizeof buf, 0)) > 0;) reply_.append(buf, static_cast<size_t>(n));
        }) {}
  ~ListenerClient() {
    if (thread_.joinable()) thread_.join();
  }
  ListenerClient(const ListenerClient&) = delete;
  ListenerClient& operator=(const ListenerClient&) = delete;
  std::string reply() {
    if (thread_.joinable()) thread_.join();
    return reply_;
  }

 private:
  std::string reply_;
  std::thread thread_;
};

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST_P(SocketsTest, TcpListensAcceptsAndServesWhenBindIsGranted) {
  auto out = std::make_shared<WatchedOutput>();
  ListenerClient client(out, std::chrono::milliseconds(0));
  SocketPolicy policy;
  policy.bind = {rule("127.0.0.1:0")};
  auto r = run({"tcp-serve", "127.0.0.1", "0"}, policy, out);
  EXPECT_EQ(client.reply(), "got: hello guest\n");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("is-listening yes\naccepted from loopback: yes\nserved: hello guest\n"), std::string::npos)
      << r.out;
}

// The guest waits in accept for 600 ms: on its pollable, in poll(2), not by
// asking again and again. What is measured is the CPU the wait adds to a run
// whose client connects at once, so the cost of instantiating and running the
// guest (several times larger under ASan) is not counted (measured here: the
// wait adds about 10 ms; with the listener's pollable always ready, 0.4 s).
TEST_P(SocketsTest, WaitingForAConnectionDoesNotSpin) {
  SocketPolicy policy;
  policy.bind = {rule("127.0.0.1:0")};
  run({"lookup", "127.0.0.1"}, policy);  // compiled and cached before anything is measured
  auto cpu_of_a_run_whose_client_waits = [&](std::chrono::milliseconds delay) {
    auto out = std::make_shared<WatchedOutput>();
    ListenerClient client(out, delay);
    double before = thread_cpu_seconds();
    auto r = run({"tcp-serve", "127.0.0.1", "0"}, policy, out);
    double used = thread_cpu_seconds() - before;
    EXPECT_EQ(client.reply(), "got: hello guest\n");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return used;
  };
  double at_once = cpu_of_a_run_whose_client_waits(std::chrono::milliseconds(0));
  double waiting = cpu_of_a_run_whose_client_waits(std::chrono::milliseconds(600));
  EXPECT_LT(waiting - at_once, 0.15) << "waiting 0.6 s for a connection cost " << waiting - at_once << " s of CPU ("
                                     << waiting << " s against " << at_once << " s)";
}

TEST_P(SocketsTest, TcpBindIsDeniedWithoutAGrant) {
  EXPECT_EQ(run({"tcp-serve", "127.0.0.1", "0"}, SocketPolicy{}).out, "bind: access-denied\n");
  // A grant for one port is not one for another, nor for another address.
  SocketPolicy policy;
  policy.bind = {rule("127.0.0.1:4321"), rule("0.0.0.0:0")};
  EXPECT_EQ(run({"tcp-serve", "127.0.0.1", "0"}, policy).out, "bind: access-denied\n");
}

TEST_P(SocketsTest, UdpSendsAndReceivesWhenGranted) {
  UdpResponder peer;
  SocketPolicy policy;
  policy.bind = {rule("127.0.0.1:0")};
  policy.connect = {rule("127.0.0.1:" + std::to_string(peer.port))};
  std::string port = std::to_string(peer.port);
  EXPECT_EQ(run({"udp", "127.0.0.1", port, "ping"}, policy).out, "sent 1\nudp reply: pong:ping (from the peer)\n");
  EXPECT_EQ(run({"udp", "127.0.0.1", port, "ping2", "connected"}, policy).out,
            "sent 1\nudp reply: pong:ping2 (from the peer)\n");
  EXPECT_EQ(peer.datagrams.load(), 2);
}

TEST_P(SocketsTest, UdpIsDeniedWithoutAGrant) {
  UdpResponder peer;
  std::string port = std::to_string(peer.port);
  // Without a bind grant the socket cannot even get a local port.
  EXPECT_EQ(run({"udp", "127.0.0.1", port, "ping"}, SocketPolicy{}).out, "bind: access-denied\n");
  // Bound, but the destination is not granted: per datagram, and per stream.
  SocketPolicy bind_only;
  bind_only.bind = {rule("127.0.0.1:0")};
  bind_only.connect = {rule("127.0.0.1:" + std::to_string(peer.port == 65535 ? 1 : peer.port + 1))};
  EXPECT_EQ(run({"udp", "127.0.0.1", port, "ping"}, bind_only).out, "send: access-denied\n");
  EXPECT_EQ(run({"udp", "127.0.0.1", port, "ping", "connected"}, bind_only).out, "stream: access-denied\n");
  EXPECT_EQ(peer.datagrams.load(), 0) << "a denied datagram must not reach the peer";
}

TEST_P(SocketsTest, NameLookupResolvesOnlyGrantedNames) {
  SocketPolicy policy;
  policy.name_lookups = {"localhost"};
  auto r = run({"lookup", "localhost"}, policy);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("address: 127.0.0.1\n"), std::string::npos) << r.out;
  EXPECT_EQ(run({"lookup", "localhost"}, SocketPolicy{}).out, "lookup: access-denied\n");
  SocketPolicy other;
  other.name_lookups = {"example.com", "*.localhost"};
  EXPECT_EQ(run({"lookup", "localhost"}, other).out, "lookup: access-denied\n");
  // An IP literal needs no lookup, hence no grant.
  EXPECT_EQ(run({"lookup", "127.0.0.1"}, SocketPolicy{}).out, "address: 127.0.0.1\naddresses: 1\n");
}

TEST_P(SocketsTest, HostileGuestGetsErrorsNotCrashes) {
  TcpEchoServer echo;
  SocketPolicy policy;
  policy.connect = {rule("127.0.0.1:" + std::to_string(echo.port))};
  policy.bind = {rule("127.0.0.1:0")};
  auto r = run({"hostile", "127.0.0.1", std::to_string(echo.port)}, policy);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.trap.has_value());
  EXPECT_EQ(r.out, R"(finish-bind unstarted: not-in-progress
finish-connect unstarted: not-in-progress
finish-listen unstarted: not-in-progress
listen unbound: invalid-state
accept unbound: invalid-state
local-address unbound: invalid-state
remote-address unconnected: invalid-state
shutdown unconnected: invalid-state
backlog 0: invalid-argument
hop-limit 0: invalid-argument
keep-alive-count 0: invalid-argument
connect port 0: invalid-argument
connect wrong family: invalid-argument
connect unspecified: invalid-argument
bind wrong family: invalid-argument
keep-alive: on
keep-alive-idle-time: 3000000000
hop-limit: 42
connect: ok
connect again while connecting: concurrency-conflict
finish-connect: ok
finish-connect again: not-in-progress
connect again when connected: invalid-state
bind when connected: invalid-state
listen when connected: invalid-state
remote-address connected: ok
write after socket dropped: closed
read after socket dropped: closed
udp stream unbound: invalid-state
udp finish-bind unstarted: not-in-progress
udp bind: ok
udp bind again: concurrency-conflict
udp finish-bind: ok
udp finish-bind again: not-in-progress
udp first streams after second: invalid-state
udp second streams: ok
udp send without address: invalid-argument
udp streams after socket dropped: invalid-state
lookup bad name: invalid-argument
hostile done
)");
}

TEST_P(SocketsTest, SendingWithoutCheckSendTrapsTheGuestNotTheHost) {
  UdpResponder peer;
  SocketPolicy policy;
  policy.bind = {rule("127.0.0.1:0")};
  policy.connect = {rule("127.0.0.1:*")};
  auto r = run({"udp-unpermitted", "127.0.0.1", std::to_string(peer.port)}, policy);
  ASSERT_TRUE(r.trap.has_value()) << r.out;
  EXPECT_NE(r.trap->message.find("exceeds what check-send permitted"), std::string::npos) << r.trap->message;
  EXPECT_EQ(peer.datagrams.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, SocketsTest, ::testing::Values("aot", "interp"),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------- policy

SocketAddress at(const std::string& ip, uint16_t port) { return SocketAddress{*IpAddress::parse(ip), port, 0}; }

TEST(SocketPolicyTest, ParsesAddressRules) {
  EXPECT_EQ(rule("127.0.0.1:8080").to_string(), "127.0.0.1:8080");
  EXPECT_EQ(rule("[::1]:443").to_string(), "[::1]:443");
  EXPECT_EQ(rule("*:53").to_string(), "*:53");
  EXPECT_EQ(rule("10.0.0.1:*").to_string(), "10.0.0.1:*");
  EXPECT_EQ(rule("[::]:0").to_string(), "[::]:0");
  EXPECT_EQ(rule("*:*").to_string(), "*:*");
}

TEST(SocketPolicyTest, RejectsMalformedRulesSayingWhy) {
  auto message = [](const std::string& spec) {
    auto r = parse_address_rule(spec);
    EXPECT_FALSE(r.ok()) << spec;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_NE(message("127.0.0.1").find("expected ADDR:PORT"), std::string::npos);
  EXPECT_NE(message("127.0.0.1:").find("port must be a number"), std::string::npos);
  EXPECT_NE(message("127.0.0.1:65536").find("port must be a number"), std::string::npos);
  EXPECT_NE(message("127.0.0.1:-1").find("port must be a number"), std::string::npos);
  EXPECT_NE(message("127.0.0.1:http").find("port must be a number"), std::string::npos);
  EXPECT_NE(message("::1:80").find("in brackets"), std::string::npos);
  EXPECT_NE(message("[127.0.0.1]:80").find("not an IPv6 address"), std::string::npos);
  EXPECT_NE(message("localhost:80").find("not an IP address"), std::string::npos);
  EXPECT_NE(message("256.0.0.1:80").find("'256.0.0.1:80'"), std::string::npos);
  EXPECT_NE(message(":80").find("not an IP address"), std::string::npos);
}

TEST(SocketPolicyTest, NothingIsAllowedWhenNothingIsGranted) {
  SocketPolicy none;
  EXPECT_FALSE(none.allows_connect(at("127.0.0.1", 80)));
  EXPECT_FALSE(none.allows_bind(at("0.0.0.0", 0)));
  EXPECT_FALSE(none.allows_lookup("localhost"));
}

TEST(SocketPolicyTest, RulesMatchAddressAndPort) {
  SocketPolicy p;
  p.connect = {rule("127.0.0.1:80"), rule("[::1]:*"), rule("*:53")};
  EXPECT_TRUE(p.allows_connect(at("127.0.0.1", 80)));
  EXPECT_FALSE(p.allows_connect(at("127.0.0.1", 81)));
  EXPECT_FALSE(p.allows_connect(at("127.0.0.2", 80)));
  EXPECT_TRUE(p.allows_connect(at("::1", 9999)));
  EXPECT_FALSE(p.allows_connect(at("::2", 9999)));
  EXPECT_TRUE(p.allows_connect(at("8.8.8.8", 53)));
  EXPECT_TRUE(p.allows_connect(at("2001:db8::1", 53)));
  // IPv4 and its IPv4-mapped IPv6 form are different addresses to the policy.
  EXPECT_FALSE(p.allows_connect(at("::ffff:127.0.0.1", 80)));
  // The loopback-only rule a workload layer can grant.
  AddressRule loopback_only;
  loopback_only.host = AddressRule::Host::Loopback;
  loopback_only.port = 8080;
  p.bind = {loopback_only};
  EXPECT_TRUE(p.allows_bind(at("127.0.0.1", 8080)));
  EXPECT_TRUE(p.allows_bind(at("127.1.2.3", 8080)));
  EXPECT_TRUE(p.allows_bind(at("::1", 8080)));
  EXPECT_FALSE(p.allows_bind(at("0.0.0.0", 8080)));
  EXPECT_FALSE(p.allows_bind(at("127.0.0.1", 8081)));
}

TEST(SocketPolicyTest, LookupNamesMatchExactlyOrBySuffix) {
  SocketPolicy p;
  p.name_lookups = {*parse_lookup_name("Example.COM"), *parse_lookup_name("*.internal")};
  EXPECT_TRUE(p.allows_lookup("example.com"));
  EXPECT_TRUE(p.allows_lookup("EXAMPLE.com."));
  EXPECT_FALSE(p.allows_lookup("www.example.com"));
  EXPECT_TRUE(p.allows_lookup("db.internal"));
  EXPECT_TRUE(p.allows_lookup("a.b.internal"));
  EXPECT_FALSE(p.allows_lookup("internal"));
  EXPECT_FALSE(p.allows_lookup("evilinternal"));
  EXPECT_FALSE(parse_lookup_name("").ok());
  EXPECT_FALSE(parse_lookup_name("two words").ok());
  EXPECT_FALSE(parse_lookup_name("a..b").ok());
  EXPECT_FALSE(parse_lookup_name("*.").ok());
}

// ---------------------------------------------------------------- CLI grants

TEST(SocketGrantsTest, AddsTheRulesOfEachFlag) {
  WasiConfig config;
  auto r = cli::add_socket_grants(config, {"127.0.0.1:8080", "[::1]:*"}, {"*:0"}, {"localhost"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(config.sockets.connect.size(), 2u);
  EXPECT_EQ(config.sockets.connect[1].to_string(), "[::1]:*");
  ASSERT_EQ(config.sockets.bind.size(), 1u);
  EXPECT_EQ(config.sockets.bind[0].to_string(), "*:0");
  EXPECT_EQ(config.sockets.name_lookups, std::vector<std::string>{"localhost"});
}

TEST(SocketGrantsTest, ErrorsNameTheFlagAndTheValue) {
  WasiConfig config;
  auto connect = cli::add_socket_grants(config, {"127.0.0.1:80", "::1:80"}, {}, {});
  ASSERT_FALSE(connect.ok());
  EXPECT_EQ(connect.error().message, "--allow-connect: '::1:80': an IPv6 address goes in brackets, as [::1]:PORT");
  auto bind = cli::add_socket_grants(config, {}, {"0.0.0.0:99999"}, {});
  ASSERT_FALSE(bind.ok());
  EXPECT_EQ(bind.error().message, "--allow-bind: '0.0.0.0:99999': the port must be a number from 0 to 65535, or *");
  auto lookup = cli::add_socket_grants(config, {}, {}, {"no such name"});
  ASSERT_FALSE(lookup.ok());
  EXPECT_NE(lookup.error().message.find("--allow-lookup: 'no such name'"), std::string::npos) << lookup.error().message;
}

}  // namespace
}  // namespace stratus::wasi::p2

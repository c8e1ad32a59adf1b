// The wasi:sockets test guest: a command that runs one scenario, named by
// its first argument, and prints what happened on stdout (one line per
// step; an error as "<step>: <error-code>"), for tests/wasi/p2/sockets_test.cc.
//   tcp-echo ADDR PORT TEXT   connect, send TEXT, print what comes back
//   tcp-serve ADDR PORT       bind, listen, print "listening PORT", accept
//                             one connection, read a line, answer "got: LINE"
//   udp ADDR PORT TEXT [connected]
//                             bind to loopback, send TEXT, print the reply
//   lookup NAME               print each address NAME resolves to
//   hostile ADDR PORT         operations in the wrong state, double connects,
//                             a socket dropped before its streams: each must
//                             answer with an error (ADDR:PORT echoes)
//   udp-unpermitted ADDR PORT send without check-send (the host must trap)
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sockets_bindings.h"

namespace {

namespace net = ::wasi::sockets::network;
namespace tcp = ::wasi::sockets::tcp;
namespace udp = ::wasi::sockets::udp;
namespace lookup = ::wasi::sockets::ip_name_lookup;
namespace streams = ::wasi::io::streams;

void say(std::string line) {
  line += "\n";
  auto out = ::wasi::cli::stdout_::get_stdout();
  for (size_t at = 0; at < line.size(); at += 4096) {
    auto piece = std::string_view(line).substr(at, 4096);
    (void)out.blocking_write_and_flush(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()));
  }
}

const char* code_name(net::ErrorCode code) {
  static const char* kNames[] = {"unknown",
                                 "access-denied",
                                 "not-supported",
                                 "invalid-argument",
                                 "out-of-memory",
                                 "timeout",
                                 "concurrency-conflict",
                                 "not-in-progress",
                                 "would-block",
                                 "invalid-state",
                                 "new-socket-limit",
                                 "address-not-bindable",
                                 "address-in-use",
                                 "remote-unreachable",
                                 "connection-refused",
                                 "connection-reset",
                                 "connection-aborted",
                                 "datagram-too-large",
                                 "name-unresolvable",
                                 "temporary-resolver-failure",
                                 "permanent-resolver-failure"};
  auto i = static_cast<size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "?";
}

// "ok", or the error's name.
template <class T>
std::string outcome(const std::expected<T, net::ErrorCode>& r) {
  return r ? "ok" : code_name(r.error());
}

std::vector<uint8_t> bytes_of(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string text_of(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

uint16_t parse_number(std::string_view s) {
  uint32_t n = 0;
  for (char c : s) n = n * 10 + static_cast<uint32_t>(c - '0');
  return static_cast<uint16_t>(n);
}

// An IPv4 literal, or IPv6 (with "::") when it holds a ':'.
net::IpSocketAddress parse_address(std::string_view ip, uint16_t port) {
  if (ip.find(':') == std::string_view::npos) {
    uint8_t b[4] = {};
    size_t i = 0;
    for (char c : ip) {
      if (c == '.') {
        ++i;
      } else if (i < 4) {
        b[i] = static_cast<uint8_t>(b[i] * 10 + (c - '0'));
      }
    }
    return net::IpSocketAddressIpv4{{port, {b[0], b[1], b[2], b[3]}}};
  }
  auto groups = [](std::string_view part) {
    std::vector<uint16_t> out;
    while (!part.empty()) {
      auto colon = part.find(':');
      auto g = part.substr(0, colon);
      uint16_t v = 0;
      for (char c : g) v = static_cast<uint16_t>(v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10));
      out.push_back(v);
      if (colon == std::string_view::npos) break;
      part.remove_prefix(colon + 1);
    }
    return out;
  };
  std::vector<uint16_t> g(8, 0);
  auto gap = ip.find("::");
  if (gap == std::string_view::npos) {
    auto all = groups(ip);
    for (size_t i = 0; i < all.size() && i < 8; ++i) g[i] = all[i];
  } else {
    auto head = groups(ip.substr(0, gap)), tail = groups(ip.substr(gap + 2));
    for (size_t i = 0; i < head.size() && i < 8; ++i) g[i] = head[i];
    for (size_t i = 0; i < tail.size() && i < 8; ++i) g[8 - tail.size() + i] = tail[i];
  }
  return net::IpSocketAddressIpv6{{port, 0, {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]}, 0}};
}

bool is_v6(const net::IpSocketAddress& a) { return a.index() == 1; }
net::IpAddressFamily family_of(const net::IpSocketAddress& a) {
  return is_v6(a) ? net::IpAddressFamily::kIpv6 : net::IpAddressFamily::kIpv4;
}
uint16_t port_of(const net::IpSocketAddress& a) {
  return is_v6(a) ? std::get<1>(a).value.port : std::get<0>(a).value.port;
}

std::string ip_text(const net::IpAddress& ip) {
  if (ip.index() == 0) {
    auto [a, b, c, d] = std::get<0>(ip).value;
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." + std::to_string(d);
  }
  auto g = std::get<1>(ip).value;
  if (g == net::Ipv6Address{0, 0, 0, 0, 0, 0, 0, 1}) return "::1";
  std::string out;
  std::apply([&](auto... x) { ((out += (out.empty() ? "" : ":") + std::to_string(x)), ...); }, g);
  return out;
}

using Streams = std::tuple<streams::InputStream, streams::OutputStream>;

// Waits for `p`, or 20 s (so a test whose policy wrongly let the guest get
// this far fails instead of hanging); false on the timeout.
bool wait_for(const ::wasi::io::poll::Pollable& p) {
  auto timeout = ::wasi::clocks::monotonic_clock::subscribe_duration(20'000'000'000);
  const ::wasi::io::poll::Pollable* both[] = {&p, &timeout};
  auto ready = ::wasi::io::poll::poll(both);
  return !ready.empty() && ready.front() == 0;
}

// Connects `sock` to `to`, waiting on its pollable; the streams, or the
// error (printed as "connect: CODE").
std::optional<Streams> connect(const tcp::TcpSocket& sock, const net::Network& network,
                               const net::IpSocketAddress& to) {
  if (auto r = sock.start_connect(network, to); !r) {
    say(std::string("connect: ") + code_name(r.error()));
    return std::nullopt;
  }
  for (;;) {
    auto r = sock.finish_connect();
    if (r) return std::move(*r);
    if (r.error() != net::ErrorCode::kWouldBlock) {
      say(std::string("connect: ") + code_name(r.error()));
      return std::nullopt;
    }
    sock.subscribe().block();
  }
}

std::string stream_outcome(const std::expected<void, streams::StreamError>& r) {
  if (r) return "ok";
  return r.error().index() == 1 ? "closed" : "failed";
}

// Reads until `want` bytes came, or a newline when `want` is 0, or the end.
std::string read_some(const streams::InputStream& in, size_t want) {
  std::string got;
  for (;;) {
    auto chunk = in.blocking_read(4096);
    if (!chunk) break;
    got += text_of(*chunk);
    if (want ? got.size() >= want : got.find('\n') != std::string::npos) break;
  }
  return got;
}

int tcp_echo(const net::IpSocketAddress& to, std::string_view text) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto sock = ::wasi::sockets::tcp_create_socket::create_tcp_socket(family_of(to));
  if (!sock) return say(std::string("create: ") + code_name(sock.error())), 1;
  auto s = connect(*sock, network, to);
  if (!s) return 1;
  auto& [in, out] = *s;
  say("connected");
  if (auto w = out.blocking_write_and_flush(bytes_of(text)); !w) return say("write: " + stream_outcome(w)), 1;
  say("echo: " + read_some(in, text.size()));
  say("shutdown: " + outcome(sock->shutdown(tcp::ShutdownType::kBoth)));
  return 0;
}

int tcp_serve(const net::IpSocketAddress& at) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto sock = ::wasi::sockets::tcp_create_socket::create_tcp_socket(family_of(at));
  if (!sock) return say(std::string("create: ") + code_name(sock.error())), 1;
  if (auto r = sock->start_bind(network, at); !r) return say(std::string("bind: ") + code_name(r.error())), 1;
  if (auto r = sock->finish_bind(); !r) return say(std::string("finish-bind: ") + code_name(r.error())), 1;
  (void)sock->set_listen_backlog_size(4);
  if (auto r = sock->start_listen(); !r) return say(std::string("listen: ") + code_name(r.error())), 1;
  if (auto r = sock->finish_listen(); !r) return say(std::string("finish-listen: ") + code_name(r.error())), 1;
  auto local = sock->local_address();
  if (!local) return say(std::string("local-address: ") + code_name(local.error())), 1;
  say("listening " + std::to_string(port_of(*local)) + " is-listening " + (sock->is_listening() ? "yes" : "no"));
  for (;;) {
    auto accepted = sock->accept();
    if (!accepted) {
      if (accepted.error() != net::ErrorCode::kWouldBlock)
        return say(std::string("accept: ") + code_name(accepted.error())), 1;
      if (!wait_for(sock->subscribe())) return say("accept: timed out"), 1;
      continue;
    }
    auto& [client, in, out] = *accepted;
    auto peer = client.remote_address();
    say(std::string("accepted from loopback: ") + (peer && port_of(*peer) != 0 ? "yes" : "no"));
    std::string line = read_some(in, 0);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    (void)out.blocking_write_and_flush(bytes_of("got: " + line + "\n"));
    say("served: " + line);
    return 0;
  }
}

int udp_exchange(const net::IpSocketAddress& to, std::string_view text, bool connected) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto sock = ::wasi::sockets::udp_create_socket::create_udp_socket(family_of(to));
  if (!sock) return say(std::string("create: ") + code_name(sock.error())), 1;
  auto local = is_v6(to) ? parse_address("::1", 0) : parse_address("127.0.0.1", 0);
  if (auto r = sock->start_bind(network, local); !r) return say(std::string("bind: ") + code_name(r.error())), 1;
  if (auto r = sock->finish_bind(); !r) return say(std::string("finish-bind: ") + code_name(r.error())), 1;
  auto pair = sock->stream(connected ? std::optional(to) : std::nullopt);
  if (!pair) return say(std::string("stream: ") + code_name(pair.error())), 1;
  auto& [incoming, outgoing] = *pair;
  uint64_t permit = 0;
  while (permit == 0) {
    auto c = outgoing.check_send();
    if (!c) return say(std::string("check-send: ") + code_name(c.error())), 1;
    permit = *c;
    if (permit == 0 && !wait_for(outgoing.subscribe())) return say("check-send: timed out"), 1;
  }
  std::vector<udp::OutgoingDatagram> datagrams{{bytes_of(text), connected ? std::nullopt : std::optional(to)}};
  auto sent = outgoing.send(datagrams);
  if (!sent) return say(std::string("send: ") + code_name(sent.error())), 1;
  say("sent " + std::to_string(*sent));
  for (;;) {
    auto got = incoming.receive(4);
    if (!got) return say(std::string("receive: ") + code_name(got.error())), 1;
    if (got->empty()) {
      if (!wait_for(incoming.subscribe())) return say("receive: timed out"), 1;
      continue;
    }
    const auto& d = got->front();
    bool from_peer = port_of(d.remote_address) == port_of(to);
    say("udp reply: " + text_of(d.data) + (from_peer ? " (from the peer)" : " (from elsewhere)"));
    return 0;
  }
}

int resolve(std::string_view name) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto stream = lookup::resolve_addresses(network, name);
  if (!stream) return say(std::string("lookup: ") + code_name(stream.error())), 1;
  int count = 0;
  for (;;) {
    auto next = stream->resolve_next_address();
    if (!next) {
      if (next.error() != net::ErrorCode::kWouldBlock) return say(std::string("lookup: ") + code_name(next.error())), 1;
      stream->subscribe().block();
      continue;
    }
    if (!*next) break;
    say("address: " + ip_text(**next));
    ++count;
  }
  say("addresses: " + std::to_string(count));
  return 0;
}

void step(std::string_view name, const std::string& result) { say(std::string(name) + ": " + result); }

int hostile(const net::IpSocketAddress& echo) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto fresh = [&] { return std::move(*::wasi::sockets::tcp_create_socket::create_tcp_socket(family_of(echo))); };
  {
    auto s = fresh();
    step("finish-bind unstarted", outcome(s.finish_bind()));
    step("finish-connect unstarted", outcome(s.finish_connect()));
    step("finish-listen unstarted", outcome(s.finish_listen()));
    step("listen unbound", outcome(s.start_listen()));
    step("accept unbound", outcome(s.accept()));
    step("local-address unbound", outcome(s.local_address()));
    step("remote-address unconnected", outcome(s.remote_address()));
    step("shutdown unconnected", outcome(s.shutdown(tcp::ShutdownType::kBoth)));
    step("backlog 0", outcome(s.set_listen_backlog_size(0)));
    step("hop-limit 0", outcome(s.set_hop_limit(0)));
    step("keep-alive-count 0", outcome(s.set_keep_alive_count(0)));
    step("connect port 0", outcome(s.start_connect(network, parse_address("127.0.0.1", 0))));
    step("connect wrong family", outcome(s.start_connect(network, parse_address("::1", port_of(echo)))));
    step("connect unspecified", outcome(s.start_connect(network, parse_address("0.0.0.0", port_of(echo)))));
    step("bind wrong family", outcome(s.start_bind(network, parse_address("::1", 0))));
    (void)s.set_keep_alive_enabled(true);
    auto ka = s.keep_alive_enabled();
    step("keep-alive", ka ? (*ka ? "on" : "off") : code_name(ka.error()));
    (void)s.set_keep_alive_idle_time(2'500'000'000);
    auto idle = s.keep_alive_idle_time();
    step("keep-alive-idle-time", idle ? std::to_string(*idle) : code_name(idle.error()));
    (void)s.set_hop_limit(42);
    auto hops = s.hop_limit();
    step("hop-limit", hops ? std::to_string(*hops) : code_name(hops.error()));
  }
  std::optional<Streams> kept;
  {
    auto s = fresh();
    step("connect", outcome(s.start_connect(network, echo)));
    step("connect again while connecting", outcome(s.start_connect(network, echo)));
    for (;;) {
      auto r = s.finish_connect();
      if (r) {
        kept = std::move(*r);
        step("finish-connect", "ok");
        break;
      }
      if (r.error() != net::ErrorCode::kWouldBlock) {
        step("finish-connect", code_name(r.error()));
        return 1;
      }
      s.subscribe().block();
    }
    step("finish-connect again", outcome(s.finish_connect()));
    step("connect again when connected", outcome(s.start_connect(network, echo)));
    step("bind when connected", outcome(s.start_bind(network, parse_address("127.0.0.1", 0))));
    step("listen when connected", outcome(s.start_listen()));
    step("remote-address connected", outcome(s.remote_address()));
  }  // the socket is dropped; its streams live on
  auto& [in, out] = *kept;
  step("write after socket dropped", stream_outcome(out.blocking_write_and_flush(bytes_of("x"))));
  auto r = in.blocking_read(16);
  step("read after socket dropped", r ? "ok" : (r.error().index() == 1 ? "closed" : "failed"));
  kept.reset();

  auto u = std::move(*::wasi::sockets::udp_create_socket::create_udp_socket(family_of(echo)));
  step("udp stream unbound", outcome(u.stream(std::nullopt)));
  step("udp finish-bind unstarted", outcome(u.finish_bind()));
  step("udp bind", outcome(u.start_bind(network, parse_address("127.0.0.1", 0))));
  step("udp bind again", outcome(u.start_bind(network, parse_address("127.0.0.1", 0))));
  step("udp finish-bind", outcome(u.finish_bind()));
  step("udp finish-bind again", outcome(u.finish_bind()));
  auto first = u.stream(std::nullopt);
  auto second = u.stream(std::nullopt);
  step("udp first streams after second", outcome(std::get<1>(*first).check_send()));
  step("udp second streams", outcome(std::get<1>(*second).check_send()));
  std::vector<udp::OutgoingDatagram> nowhere{{bytes_of("x"), std::nullopt}};
  step("udp send without address", outcome(std::get<1>(*second).send(nowhere)));
  { auto dropped = std::move(u); }
  step("udp streams after socket dropped", outcome(std::get<1>(*second).check_send()));
  step("lookup bad name", outcome(lookup::resolve_addresses(network, "bad name!")));
  say("hostile done");
  return 0;
}

int udp_unpermitted(const net::IpSocketAddress& to) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto sock = std::move(*::wasi::sockets::udp_create_socket::create_udp_socket(family_of(to)));
  (void)sock.start_bind(network, parse_address("127.0.0.1", 0));
  (void)sock.finish_bind();
  auto pair = sock.stream(std::nullopt);
  if (!pair) return say(std::string("stream: ") + code_name(pair.error())), 1;
  std::vector<udp::OutgoingDatagram> datagrams{{bytes_of("x"), to}};
  auto sent = std::get<1>(*pair).send(datagrams);  // no check-send first: the host must trap
  say("send without check-send: " + outcome(sent));
  return 0;
}

int run_scenario(const std::vector<std::string>& args) {
  auto arg = [&](size_t i) { return i < args.size() ? std::string_view(args[i]) : std::string_view(); };
  std::string_view what = arg(1);
  auto address = [&] { return parse_address(arg(2), parse_number(arg(3))); };
  if (what == "tcp-echo") return tcp_echo(address(), arg(4));
  if (what == "tcp-serve") return tcp_serve(address());
  if (what == "udp") return udp_exchange(address(), arg(4), arg(5) == "connected");
  if (what == "lookup") return resolve(arg(2));
  if (what == "hostile") return hostile(address());
  if (what == "udp-unpermitted") return udp_unpermitted(address());
  say("unknown scenario");
  return 2;
}

}  // namespace

namespace exports::wasi::cli::run {

std::expected<void, ::stratus_guest::Unit> run() {
  if (run_scenario(::wasi::cli::environment::get_arguments()) != 0) return std::unexpected(::stratus_guest::Unit{});
  return {};
}

}  // namespace exports::wasi::cli::run

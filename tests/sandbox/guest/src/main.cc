// The hostile guest of the sandbox suite (tests/sandbox): a wasi:http proxy
// whose every request is one try at a way out, named by its path, with its
// arguments in the query (values are not %-decoded: the suite sends plain
// ones). The answer says how the try ended:
//   403 "refused: WHY"   the host said no (WHY: the error's WIT name)
//   200 "escaped: WHAT"  the try got through: the wall did not hold
//   502 "failed: WHY"    it failed for another reason than the sandbox
//   200 "ok"             for the setup requests (plant, sleep)
// A try that traps (memory, recursion, handles) gets the host's 500.
//
//   /tcp-connect?ip=A&port=P     connect to A:P (A: IPv4 or IPv6 text)
//   /tcp-bind?ip=A&port=P        bind a TCP socket and listen
//   /udp-bind?ip=A&port=P        bind a UDP socket
//   /lookup?name=N               resolve N
//   /open?dir=D&path=P[&write=1][&create=1][&truncate=1][&follow=1]
//                                open P under preopen D; read it (or write)
//   /link?dir=D&old=O&new=N[&follow=1]   hard-link O as N, then read N
//   /symlink?dir=D&target=T&name=N       symlink N -> T, then read N
//   /mkdir?dir=D&path=P  /unlink?dir=D&path=P  /rename?dir=D&old=O&new=N
//   /set-times?dir=D             touch the preopen itself
//   /write-fd?dir=D&path=P       open P read-only, then write through it
//   /http?authority=A            GET http://A/ with wasi:http
//   /grow?pages=N                memory.grow by N pages at once
//   /grow-loop                   memory.grow one page at a time until it fails
//   /malloc?mb=N                 malloc N MiB
//   /vector?mb=N                 a std::vector of N MiB (aborts when it cannot)
//   /recurse?kind=direct|mutual|wide   recursion without end
//   /handles?kind=fields|streams|sockets|pollables|lookups
//                                make handles, keeping them all, until refused
//   /kv-plant?bucket=B&key=K&value=V   /kv-read?bucket=B&key=K
//   /blob-plant?container=C&object=O&value=V   /blob-read?container=C&object=O
//   /sleep?ms=N                  answer after N ms
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings.h"

namespace {

namespace http = ::wasi::http::types;
namespace fst = ::wasi::filesystem::types;
namespace net = ::wasi::sockets::network;
namespace tcp = ::wasi::sockets::tcp;
namespace udp = ::wasi::sockets::udp;
namespace lookup = ::wasi::sockets::ip_name_lookup;
namespace kv = ::wasi::keyvalue::store;
namespace bs = ::wasi::blobstore;

struct Outcome {
  uint16_t status;
  std::string text;
};
Outcome refused(const std::string& why) { return {403, "refused: " + why}; }
Outcome escaped(const std::string& what) { return {200, "escaped: " + what}; }
Outcome failed(const std::string& why) { return {502, "failed: " + why}; }
Outcome ok() { return {200, "ok"}; }

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// The query's KEY=VALUE pairs (values as sent: the suite sends plain ones).
using Query = std::map<std::string, std::string, std::less<>>;
Query parse_query(std::string_view url) {
  Query q;
  auto at = url.find('?');
  if (at == std::string_view::npos) return q;
  for (std::string_view rest = url.substr(at + 1); !rest.empty();) {
    auto pair = rest.substr(0, rest.find('&'));
    auto eq = pair.find('=');
    q[std::string(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
  }
  return q;
}
std::string arg(const Query& q, std::string_view key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

// The WIT names of the codes a try meets; others by number.
std::string fs_error(fst::ErrorCode e) {
  switch (e) {
    case fst::ErrorCode::kAccess: return "access";
    case fst::ErrorCode::kBadDescriptor: return "bad-descriptor";
    case fst::ErrorCode::kExist: return "exist";
    case fst::ErrorCode::kInvalid: return "invalid";
    case fst::ErrorCode::kLoop: return "loop";
    case fst::ErrorCode::kNoEntry: return "no-entry";
    case fst::ErrorCode::kNotPermitted: return "not-permitted";
    case fst::ErrorCode::kReadOnly: return "read-only";
    default: return "filesystem error-code " + std::to_string(static_cast<uint32_t>(e));
  }
}

std::string net_error(net::ErrorCode e) {
  switch (e) {
    case net::ErrorCode::kAccessDenied: return "access-denied";
    case net::ErrorCode::kInvalidArgument: return "invalid-argument";
    case net::ErrorCode::kNewSocketLimit: return "new-socket-limit";
    case net::ErrorCode::kNotSupported: return "not-supported";
    case net::ErrorCode::kConnectionRefused: return "connection-refused";
    case net::ErrorCode::kNameUnresolvable: return "name-unresolvable";
    default: return "sockets error-code " + std::to_string(static_cast<uint32_t>(e));
  }
}

// What the sandbox answers with when it says no; anything else is another failure.
bool fs_refusal(fst::ErrorCode e) {
  return e == fst::ErrorCode::kNotPermitted || e == fst::ErrorCode::kReadOnly || e == fst::ErrorCode::kAccess ||
         e == fst::ErrorCode::kBadDescriptor || e == fst::ErrorCode::kInvalid || e == fst::ErrorCode::kLoop;
}
Outcome fs_outcome(fst::ErrorCode e) { return fs_refusal(e) ? refused(fs_error(e)) : failed(fs_error(e)); }

bool net_refusal(net::ErrorCode e) {
  return e == net::ErrorCode::kAccessDenied || e == net::ErrorCode::kInvalidArgument ||
         e == net::ErrorCode::kNewSocketLimit || e == net::ErrorCode::kNotSupported;
}
Outcome net_outcome(net::ErrorCode e) { return net_refusal(e) ? refused(net_error(e)) : failed(net_error(e)); }

// An address from its text: dotted IPv4 or IPv6 (with "::" and an IPv4 tail).
std::optional<net::IpSocketAddress> parse_address(const std::string& ip, uint16_t port) {
  if (ip.find(':') == std::string::npos) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return std::nullopt;
    return net::IpSocketAddress{net::IpSocketAddressIpv4{
        {port, {static_cast<uint8_t>(a), static_cast<uint8_t>(b), static_cast<uint8_t>(c), static_cast<uint8_t>(d)}}}};
  }
  // IPv6: groups before and after "::", an IPv4 tail as two groups.
  std::vector<uint16_t> head, tail;
  std::string_view s = ip;
  auto gap = s.find("::");
  auto groups = [](std::string_view part, std::vector<uint16_t>& out) {
    while (!part.empty()) {
      auto colon = part.find(':');
      std::string g(part.substr(0, colon));
      if (g.find('.') != std::string::npos) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (std::sscanf(g.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return false;
        out.push_back(static_cast<uint16_t>(a << 8 | b));
        out.push_back(static_cast<uint16_t>(c << 8 | d));
      } else {
        out.push_back(static_cast<uint16_t>(std::strtoul(g.c_str(), nullptr, 16)));
      }
      if (colon == std::string_view::npos) break;
      part = part.substr(colon + 1);
    }
    return true;
  };
  if (gap == std::string_view::npos) {
    if (!groups(s, head)) return std::nullopt;
  } else if (!groups(s.substr(0, gap), head) || !groups(s.substr(gap + 2), tail)) {
    return std::nullopt;
  }
  if (head.size() + tail.size() > 8) return std::nullopt;
  std::array<uint16_t, 8> g{};
  for (size_t i = 0; i < head.size(); ++i) g[i] = head[i];
  for (size_t i = 0; i < tail.size(); ++i) g[8 - tail.size() + i] = tail[i];
  net::Ipv6SocketAddress v6;
  v6.port = port;
  v6.address = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]};
  return net::IpSocketAddress{net::IpSocketAddressIpv6{v6}};
}

// The address `ip`:`port` and a new socket of its family (made by `create`),
// or how the try ended already.
template <class Socket, class Create>
std::variant<std::pair<Socket, net::IpSocketAddress>, Outcome> open_socket(const std::string& ip, uint16_t port,
                                                                           Create create) {
  auto addr = parse_address(ip, port);
  if (!addr) return failed("bad address " + ip);
  bool v4 = std::holds_alternative<net::IpSocketAddressIpv4>(*addr);
  auto socket = create(v4 ? net::IpAddressFamily::kIpv4 : net::IpAddressFamily::kIpv6);
  if (!socket) return net_outcome(socket.error());
  return std::make_pair(std::move(*socket), *addr);
}

Outcome tcp_try(const std::string& ip, uint16_t port, bool bind) {
  auto opened = open_socket<tcp::TcpSocket>(ip, port, ::wasi::sockets::tcp_create_socket::create_tcp_socket);
  if (auto* ended = std::get_if<Outcome>(&opened)) return *ended;
  auto& [socket, addr] = std::get<0>(opened);
  auto network = ::wasi::sockets::instance_network::instance_network();
  std::string where = ip + ":" + std::to_string(port);
  if (bind) {
    if (auto started = socket.start_bind(network, addr); !started) return net_outcome(started.error());
    if (auto bound = socket.finish_bind(); !bound) return net_outcome(bound.error());
    if (auto l = socket.start_listen(); !l) return net_outcome(l.error());
    socket.subscribe().block();
    if (auto l = socket.finish_listen(); !l) return net_outcome(l.error());
    return escaped("listening on " + where);
  }
  if (auto started = socket.start_connect(network, addr); !started) return net_outcome(started.error());
  for (;;) {
    auto done = socket.finish_connect();
    if (done) return escaped("connected to " + where);
    if (done.error() != net::ErrorCode::kWouldBlock) return net_outcome(done.error());
    socket.subscribe().block();
  }
}

Outcome udp_bind(const std::string& ip, uint16_t port) {
  auto opened = open_socket<udp::UdpSocket>(ip, port, ::wasi::sockets::udp_create_socket::create_udp_socket);
  if (auto* ended = std::get_if<Outcome>(&opened)) return *ended;
  auto& [socket, addr] = std::get<0>(opened);
  auto network = ::wasi::sockets::instance_network::instance_network();
  if (auto started = socket.start_bind(network, addr); !started) return net_outcome(started.error());
  socket.subscribe().block();
  if (auto bound = socket.finish_bind(); !bound) return net_outcome(bound.error());
  return escaped("bound " + ip + ":" + std::to_string(port));
}

Outcome resolve(const std::string& name) {
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto stream = lookup::resolve_addresses(network, name);
  if (!stream) return net_outcome(stream.error());
  for (;;) {
    auto next = stream->resolve_next_address();
    if (next) return escaped(*next ? "resolved " + name : "resolved " + name + " to nothing");
    if (next.error() != net::ErrorCode::kWouldBlock) return net_outcome(next.error());
    stream->subscribe().block();
  }
}

std::optional<fst::Descriptor> preopen(const std::string& guest_path) {
  for (auto& [d, path] : ::wasi::filesystem::preopens::get_directories())
    if (path == guest_path) return std::move(d);
  return std::nullopt;
}

// Reads what `file` holds (up to 4 KiB): an escape if it opens at all.
Outcome read_all(const fst::Descriptor& file, const std::string& what) {
  auto got = file.read(4096, 0);
  if (!got) return fs_outcome(got.error());
  auto& data = std::get<0>(*got);
  return escaped("read " + what + ": " + std::string(data.begin(), data.end()));
}

Outcome open_path(const fst::Descriptor& dir, const std::string& path, const Query& q) {
  fst::PathFlags pf{arg(q, "follow") == "1"};
  fst::OpenFlags of;
  of.create = arg(q, "create") == "1";
  of.truncate = arg(q, "truncate") == "1";
  fst::DescriptorFlags df;
  df.read = true;
  df.write = arg(q, "write") == "1";
  auto file = dir.open_at(pf, path, of, df);
  if (!file) return fs_outcome(file.error());
  if (df.write) {
    auto n = file->write(bytes_of("pwned"), 0);
    if (!n) return fs_outcome(n.error());
    return escaped("wrote " + path);
  }
  return read_all(*file, path);
}

Outcome files(std::string_view op, const Query& q) {
  auto dir = preopen(arg(q, "dir"));
  if (!dir) return failed("no preopen " + arg(q, "dir"));
  auto follow_read = [&](const std::string& name) { return open_path(*dir, name, Query{{"follow", "1"}}); };
  if (op == "/open") return open_path(*dir, arg(q, "path"), q);
  if (op == "/link") {
    fst::PathFlags pf{arg(q, "follow") == "1"};
    auto linked = dir->link_at(pf, arg(q, "old"), *dir, arg(q, "new"));
    if (!linked) return fs_outcome(linked.error());
    return follow_read(arg(q, "new"));
  }
  if (op == "/symlink") {
    auto made = dir->symlink_at(arg(q, "target"), arg(q, "name"));
    if (!made) return fs_outcome(made.error());
    return follow_read(arg(q, "name"));
  }
  std::expected<void, fst::ErrorCode> r;
  if (op == "/mkdir") r = dir->create_directory_at(arg(q, "path"));
  if (op == "/unlink") r = dir->unlink_file_at(arg(q, "path"));
  if (op == "/rename") r = dir->rename_at(arg(q, "old"), *dir, arg(q, "new"));
  if (op == "/set-times") r = dir->set_times(fst::NewTimestampNow{}, fst::NewTimestampNow{});
  if (op == "/write-fd") {
    fst::DescriptorFlags df;
    df.read = true;
    auto file = dir->open_at({}, arg(q, "path"), {}, df);
    if (!file) return fs_outcome(file.error());
    auto out = file->write_via_stream(0);
    if (!out) return fs_outcome(out.error());
    auto written = out->blocking_write_and_flush(bytes_of("pwned"));
    if (!written) {
      if (auto* e = std::get_if<::wasi::io::streams::StreamErrorLastOperationFailed>(&written.error())) {
        auto code = fst::filesystem_error_code(e->value);
        if (code) return fs_outcome(*code);
        return refused(e->value.to_debug_string());
      }
      return refused("closed");
    }
  }
  if (!r) return fs_outcome(r.error());
  return escaped(std::string(op) + " done");
}

const char* http_error(const http::ErrorCode& e) {
  if (std::holds_alternative<http::ErrorCodeHttpRequestDenied>(e)) return "HTTP-request-denied";
  if (std::holds_alternative<http::ErrorCodeHttpRequestUriInvalid>(e)) return "HTTP-request-URI-invalid";
  if (std::holds_alternative<http::ErrorCodeDestinationIpProhibited>(e)) return "destination-IP-prohibited";
  if (std::holds_alternative<http::ErrorCodeConnectionRefused>(e)) return "connection-refused";
  if (std::holds_alternative<http::ErrorCodeDnsError>(e)) return "DNS-error";
  return "another error-code";
}

Outcome fetch(const std::string& authority) {
  http::OutgoingRequest request(http::Fields{});
  (void)request.set_scheme(http::Scheme{http::SchemeHttp{}});
  if (!request.set_authority(authority)) return refused("the authority was not accepted");
  (void)request.set_path_with_query("/");
  auto future = ::wasi::http::outgoing_handler::handle(std::move(request), std::nullopt);
  auto answer = [](const http::ErrorCode& e) {
    bool denial = std::holds_alternative<http::ErrorCodeHttpRequestDenied>(e) ||
                  std::holds_alternative<http::ErrorCodeHttpRequestUriInvalid>(e) ||
                  std::holds_alternative<http::ErrorCodeDestinationIpProhibited>(e);
    return denial ? refused(http_error(e)) : failed(http_error(e));
  };
  if (!future) return answer(future.error());
  future->subscribe().block();
  auto got = future->get();
  if (!got || !*got) return failed("no response");
  if (!**got) return answer((**got).error());
  return escaped("HTTP " + std::to_string((**got)->status()) + " from " + authority);
}

Outcome grow(uint32_t pages) {
  auto before = __builtin_wasm_memory_size(0);
  if (__builtin_wasm_memory_grow(0, pages) == static_cast<size_t>(-1))
    return refused("memory.grow by " + std::to_string(pages) + " pages failed at " + std::to_string(before) + " pages");
  return escaped("grew to " + std::to_string(__builtin_wasm_memory_size(0)) + " pages");
}

Outcome grow_loop(uint64_t limit_pages) {
  for (;;) {
    auto size = __builtin_wasm_memory_size(0);
    if (__builtin_wasm_memory_grow(0, 1) == static_cast<size_t>(-1)) {
      if (size > limit_pages) return escaped("grew to " + std::to_string(size) + " pages");
      return refused("memory.grow failed at " + std::to_string(size) + " pages");
    }
  }
}

Outcome allocate(size_t mb) {
  // Kept where the compiler cannot see it unused (it would drop the pair).
  static void* volatile kept = nullptr;
  kept = std::malloc(mb << 20);
  if (kept == nullptr) return refused("malloc of " + std::to_string(mb) + " MiB returned null");
  std::free(kept);
  return escaped("malloc of " + std::to_string(mb) + " MiB");
}

Outcome vector(size_t mb) {
  std::vector<char> v(mb << 20, 'x');
  return escaped("a vector of " + std::to_string(v.size()) + " bytes");
}

// Recursion the compiler cannot turn into a loop: each call goes through a
// pointer it cannot see through.
int direct(int n);
int mutual_a(int n);
int mutual_b(int n);
int (*volatile g_direct)(int) = direct;
int (*volatile g_mutual_a)(int) = mutual_a;
int (*volatile g_mutual_b)(int) = mutual_b;
int direct(int n) { return g_direct(n + 1) + n; }
int mutual_a(int n) { return g_mutual_b(n + 1) + 1; }
int mutual_b(int n) { return g_mutual_a(n + 1) * 3; }
// Many live values per frame: the wasm frames are large.
using Wide = int64_t (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
int64_t wide(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g, int64_t h);
Wide volatile g_wide = wide;
int64_t wide(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g, int64_t h) {
  return g_wide(b, c, d, e, f, g, h, a + 1) ^ (a * b + c * d + e * f + g * h);
}

Outcome recurse(const std::string& kind) {
  if (kind == "direct") return escaped("returned " + std::to_string(g_direct(0)));
  if (kind == "mutual") return escaped("returned " + std::to_string(g_mutual_a(0)));
  return escaped("returned " + std::to_string(g_wide(1, 2, 3, 4, 5, 6, 7, 8)));
}

// Makes handles of one kind, keeping each, until the host refuses one; a
// host with no cap lets it run until the instance's time is up.
Outcome handles(const std::string& kind) {
  std::vector<http::Fields> fields;
  std::vector<::wasi::io::streams::OutputStream> streams;
  std::vector<tcp::TcpSocket> sockets;
  std::vector<::wasi::io::poll::Pollable> pollables;
  std::vector<lookup::ResolveAddressStream> lookups;
  auto network = ::wasi::sockets::instance_network::instance_network();
  auto with_count = [](net::ErrorCode e, size_t n, const char* what) {
    Outcome o = net_outcome(e);
    o.text += " after " + std::to_string(n) + " " + what;
    return o;
  };
  for (size_t n = 0;; ++n) {
    if (kind == "fields") {
      fields.emplace_back();
    } else if (kind == "streams") {
      streams.push_back(::wasi::cli::stdout_::get_stdout());
    } else if (kind == "pollables") {
      pollables.push_back(::wasi::clocks::monotonic_clock::subscribe_duration(1'000'000'000));
    } else if (kind == "sockets") {
      auto made = ::wasi::sockets::tcp_create_socket::create_tcp_socket(net::IpAddressFamily::kIpv4);
      if (!made) return with_count(made.error(), n, "sockets");
      sockets.push_back(std::move(*made));
    } else if (kind == "lookups") {
      auto made = lookup::resolve_addresses(network, "127.0.0.1");
      if (!made) return with_count(made.error(), n, "lookups");
      lookups.push_back(std::move(*made));
    } else {
      return failed("no handle kind " + kind);
    }
  }
}

const char* kv_error(const kv::Error& e) {
  if (std::holds_alternative<kv::ErrorNoSuchStore>(e)) return "no-such-store";
  if (std::holds_alternative<kv::ErrorAccessDenied>(e)) return "access-denied";
  return std::get<kv::ErrorOther>(e).value.c_str();
}

Outcome keyvalue(std::string_view op, const Query& q) {
  auto bucket = kv::open(arg(q, "bucket"));
  if (!bucket) return refused(kv_error(bucket.error()));
  std::string key = arg(q, "key");
  if (op == "/kv-plant") {
    auto set = bucket->set(key, bytes_of(arg(q, "value")));
    return set ? ok() : failed(kv_error(set.error()));
  }
  auto got = bucket->get(key);
  if (!got) return refused(kv_error(got.error()));
  if (!*got) return refused("no key `" + key + "` in bucket `" + arg(q, "bucket") + "`");
  return escaped("read " + std::string((*got)->begin(), (*got)->end()));
}

Outcome blobstore(std::string_view op, const Query& q) {
  std::string name = arg(q, "container"), object = arg(q, "object");
  if (op == "/blob-plant") {
    auto exists = bs::blobstore::container_exists(name);
    if (!exists) return failed(exists.error());
    auto c = *exists ? bs::blobstore::get_container(name) : bs::blobstore::create_container(name);
    if (!c) return failed(c.error());
    auto value = bs::types::OutgoingValue::new_outgoing_value();
    {
      auto body = value.outgoing_value_write_body();
      if (!body || !body->blocking_write_and_flush(bytes_of(arg(q, "value")))) return failed("write");
    }
    if (auto w = c->write_data(object, value); !w) return failed(w.error());
    if (auto f = bs::types::OutgoingValue::finish(std::move(value)); !f) return failed(f.error());
    return ok();
  }
  auto c = bs::blobstore::get_container(name);
  if (!c) return refused(c.error());
  auto value = c->get_data(object, 0, UINT64_MAX);
  if (!value) return refused(value.error());
  auto data = bs::types::IncomingValue::incoming_value_consume_sync(std::move(*value));
  if (!data) return refused(data.error());
  return escaped("read " + std::string(data->begin(), data->end()));
}

Outcome sleep_for(uint64_t ms) {
  ::wasi::clocks::monotonic_clock::subscribe_duration(ms * 1'000'000).block();
  return ok();
}

uint64_t number(const Query& q, std::string_view key) { return std::strtoull(arg(q, key).c_str(), nullptr, 10); }

Outcome run(const std::string& url) {
  std::string_view op = std::string_view(url).substr(0, url.find('?'));
  Query q = parse_query(url);
  auto port = static_cast<uint16_t>(number(q, "port"));
  if (op == "/tcp-connect") return tcp_try(arg(q, "ip"), port, false);
  if (op == "/tcp-bind") return tcp_try(arg(q, "ip"), port, true);
  if (op == "/udp-bind") return udp_bind(arg(q, "ip"), port);
  if (op == "/lookup") return resolve(arg(q, "name"));
  if (op == "/open" || op == "/link" || op == "/symlink" || op == "/mkdir" || op == "/unlink" || op == "/rename" ||
      op == "/set-times" || op == "/write-fd")
    return files(op, q);
  if (op == "/http") return fetch(arg(q, "authority"));
  if (op == "/grow") return grow(static_cast<uint32_t>(number(q, "pages")));
  if (op == "/grow-loop") return grow_loop(number(q, "limit-pages"));
  if (op == "/malloc") return allocate(number(q, "mb"));
  if (op == "/vector") return vector(number(q, "mb"));
  if (op == "/recurse") return recurse(arg(q, "kind"));
  if (op == "/handles") return handles(arg(q, "kind"));
  if (op.starts_with("/kv-")) return keyvalue(op, q);
  if (op.starts_with("/blob-")) return blobstore(op, q);
  if (op == "/sleep") return sleep_for(number(q, "ms"));
  return {404, "no try " + std::string(op)};
}

void respond(http::ResponseOutparam out, Outcome outcome) {
  outcome.text += "\n";
  http::Fields headers;
  (void)headers.append("content-type", bytes_of("text/plain"));
  http::OutgoingResponse response(std::move(headers));
  (void)response.set_status_code(outcome.status);
  auto body = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!body) return;
  {
    auto stream = body->write();
    if (!stream || !stream->blocking_write_and_flush(bytes_of(outcome.text))) return;
  }
  (void)http::OutgoingBody::finish(std::move(*body), std::nullopt);
}

}  // namespace

namespace exports::wasi::http::incoming_handler {

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  respond(std::move(response_out), run(request.path_with_query().value_or("/")));
}

}  // namespace exports::wasi::http::incoming_handler

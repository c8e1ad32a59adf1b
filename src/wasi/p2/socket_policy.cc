#include "wasi/p2/socket_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace stratus::wasi::p2 {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return lower(name);
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

// Letters, digits, '-' and '_' in dot-separated labels of 1 to 63 bytes.
bool valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  if (::inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::is_loopback() const {
  if (!v6) return bytes[0] == 127;
  return std::all_of(bytes.begin(), bytes.begin() + 15, [](uint8_t b) { return b == 0; }) && bytes[15] == 1;
}

bool IpAddress::is_unspecified() const {
  size_t n = v6 ? 16 : 4;
  return std::all_of(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n), [](uint8_t b) { return b == 0; });
}

std::string SocketAddress::to_string() const {
  std::string host = ip.v6 ? "[" + ip.to_string() + "]" : ip.to_string();
  return host + ":" + std::to_string(port);
}

bool AddressRule::matches(const SocketAddress& a) const {
  if (port && *port != a.port) return false;
  switch (host) {
    case Host::Any: return true;
    case Host::Loopback: return a.ip.is_loopback();
    case Host::Exact: return a.ip == address;
  }
  return false;
}

std::string AddressRule::to_string() const {
  std::string h = "*";
  if (host == Host::Loopback) h = "loopback";
  if (host == Host::Exact) h = address.v6 ? "[" + address.to_string() + "]" : address.to_string();
  return h + ":" + (port ? std::to_string(*port) : "*");
}

Result<AddressRule> parse_address_rule(std::string_view spec) {
  std::string quoted = "'" + std::string(spec) + "'";
  auto colon = spec.rfind(':');
  if (colon == std::string_view::npos)
    return make_error(quoted + ": expected ADDR:PORT (an IP address, [IPv6] or *, then a port or *)");
  std::string_view host = spec.substr(0, colon), port = spec.substr(colon + 1);
  AddressRule rule;
  if (port != "*") {
    rule.port = parse_port(port);
    if (!rule.port) return make_error(quoted + ": the port must be a number from 0 to 65535, or *");
  }
  if (host == "*") return rule;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto ip = IpAddress::parse(host.substr(1, host.size() - 2));
    if (!ip || !ip->v6) return make_error(quoted + ": '" + std::string(host) + "' is not an IPv6 address");
    rule.host = AddressRule::Host::Exact;
    rule.address = *ip;
    return rule;
  }
  if (host.find(':') != std::string_view::npos)
    return make_error(quoted + ": an IPv6 address goes in brackets, as [::1]:PORT");
  auto ip = IpAddress::parse(host);
  if (!ip || ip->v6)
    return make_error(quoted + ": '" + std::string(host) + "' is not an IP address (names are not allowed here)");
  rule.host = AddressRule::Host::Exact;
  rule.address = *ip;
  return rule;
}

Result<std::string> parse_lookup_name(std::string_view spec) {
  std::string_view name = spec;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (!valid_host_name(name))
    return make_error("'" + std::string(spec) + "': expected a host name (letters, digits, '-', dots) or *.DOMAIN");
  return canonical_name(spec);
}

bool SocketPolicy::allows_connect(const SocketAddress& to) const {
  return std::any_of(connect.begin(), connect.end(), [&](const AddressRule& r) { return r.matches(to); });
}

bool SocketPolicy::allows_bind(const SocketAddress& local) const {
  return std::any_of(bind.begin(), bind.end(), [&](const AddressRule& r) { return r.matches(local); });
}

bool SocketPolicy::allows_lookup(std::string_view name) const {
  std::string n = canonical_name(name);
  for (const auto& granted : name_lookups) {
    std::string g = canonical_name(granted);
    if (g.starts_with("*.")) {
      std::string_view suffix = std::string_view(g).substr(1);  // ".example.com"
      if (n.size() > suffix.size() && n.ends_with(suffix)) return true;
    } else if (g == n) {
      return true;
    }
  }
  return false;
}

}  // namespace stratus::wasi::p2

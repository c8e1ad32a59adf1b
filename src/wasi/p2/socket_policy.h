// What a guest may do with wasi:sockets: deny by default. A TCP connect or
// a UDP datagram goes out only to an address a `connect` rule allows, a
// socket binds only to an address a `bind` rule allows, and ip-name-lookup
// resolves only the names granted. The CLI fills this from --allow-connect,
// --allow-bind and --allow-lookup; a workload layer can build the same
// rules (a Loopback rule grants "loopback port N only").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::wasi::p2 {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4, network order

  // A literal: dotted IPv4 or IPv6 text (no brackets); nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  bool is_loopback() const;     // 127.0.0.0/8 or ::1
  bool is_unspecified() const;  // 0.0.0.0 or ::
  bool operator==(const IpAddress&) const = default;
};

struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;
  uint32_t scope_id = 0;          // IPv6: the interface of a link-local address (not part of any rule)
  std::string to_string() const;  // 1.2.3.4:80, [::1]:80
};

// One grant: an address (any, any loopback address, or exactly one) and a
// port (any, or exactly one; port 0 is the "any free port" of a bind).
struct AddressRule {
  enum class Host { Any, Loopback, Exact };
  Host host = Host::Any;
  IpAddress address;             // Host::Exact
  std::optional<uint16_t> port;  // nullopt: any port
  bool matches(const SocketAddress& a) const;
  std::string to_string() const;  // as parse_address_rule reads it
};

// ADDR:PORT with ADDR an IPv4 literal, [IPv6] or `*` (any address) and PORT
// a number or `*` (any port). The error says what is wrong with `spec`.
Result<AddressRule> parse_address_rule(std::string_view spec);

// A host name ip-name-lookup may resolve: an exact name or `*.example.com`
// (its subdomains). The error says what is wrong with `spec`.
Result<std::string> parse_lookup_name(std::string_view spec);

struct SocketPolicy {
  std::vector<AddressRule> connect;  // TCP connect, UDP send and stream(remote)
  std::vector<AddressRule> bind;     // TCP and UDP bind (port 0 included)
  std::vector<std::string> name_lookups;

  bool allows_connect(const SocketAddress& to) const;
  bool allows_bind(const SocketAddress& local) const;
  // `name` is compared without case and without a trailing dot.
  bool allows_lookup(std::string_view name) const;
};

}  // namespace stratus::wasi::p2

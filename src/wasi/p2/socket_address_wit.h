// Socket addresses between the host's form (socket_policy.h) and WIT's
// ip-address and ip-socket-address variants, which WASI 0.2 and 0.3 define
// alike: templates over either version's generated cases.
#pragma once

#include <cstdint>
#include <tuple>
#include <variant>

#include "wasi/p2/socket_policy.h"

namespace stratus::wasi::p2 {

// V4 and V6: the ip-socket-address cases.
template <class V4, class V6, class A>
SocketAddress address_from_wit(const A& a) {
  SocketAddress out;
  if (const auto* v4 = std::get_if<V4>(&a)) {
    out.port = v4->value.port;
    const auto& [b0, b1, b2, b3] = v4->value.address;
    out.ip.bytes[0] = b0;
    out.ip.bytes[1] = b1;
    out.ip.bytes[2] = b2;
    out.ip.bytes[3] = b3;
    return out;
  }
  const auto& v6 = std::get<V6>(a).value;
  out.port = v6.port;
  out.scope_id = v6.scope_id;
  out.ip.v6 = true;
  std::apply(
      [&](auto... segment) {
        size_t i = 0;
        ((out.ip.bytes[i++] = static_cast<uint8_t>(segment >> 8), out.ip.bytes[i++] = static_cast<uint8_t>(segment)),
         ...);
      },
      v6.address);
  return out;
}

// Ip: the ip-address variant; Ip4 and Ip6 its cases.
template <class Ip, class Ip4, class Ip6>
Ip ip_to_wit(const IpAddress& ip) {
  const auto& b = ip.bytes;
  if (!ip.v6) return Ip4{{b[0], b[1], b[2], b[3]}};
  auto seg = [&](size_t i) { return static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]); };
  return Ip6{{seg(0), seg(1), seg(2), seg(3), seg(4), seg(5), seg(6), seg(7)}};
}

// A: the ip-socket-address variant, V4 and V6 its cases; Ip, Ip4 and Ip6
// the ip-address variant and its cases.
template <class A, class V4, class V6, class Ip, class Ip4, class Ip6>
A address_to_wit(const SocketAddress& a) {
  auto ip = ip_to_wit<Ip, Ip4, Ip6>(a.ip);
  if (auto* v4 = std::get_if<Ip4>(&ip)) return V4{{a.port, v4->value}};
  return V6{{a.port, 0, std::get<Ip6>(ip).value, a.scope_id}};
}

}  // namespace stratus::wasi::p2

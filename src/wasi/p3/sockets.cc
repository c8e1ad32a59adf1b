// wasi:sockets 0.3: what the TCP and UDP hosts share (error codes from
// errno, addresses between the WIT's form and the host's), ip-name-lookup
// (an async func answered from a thread that runs getaddrinfo) and the
// definition of both interfaces. Grants are WASI 0.2's (WasiConfig::sockets):
// what the policy does not allow is refused with access-denied, and sockets
// and lookups past WasiConfig::max_sockets (one count with 0.2's) with
// out-of-memory; each refusal is told to WasiConfig::on_refused.
#include "wasi/p3/sockets.h"

#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "wasi/p2/socket_address_wit.h"
#include "wasi/p2/socket_options.h"
#include "wasi/p2/sockets_wit.h"

namespace stratus::wasi::p3 {
namespace {

namespace lookup = ::p3::wasi::sockets::ip_name_lookup;
using wit::Reply;

using LookupError = lookup::ErrorCode;
using LookupResult = wit::WitResult<std::vector<lookup::IpAddress>, LookupError>;

LookupError resolver_error(int gai_error) {
  switch (gai_error) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
    case EAI_ADDRFAMILY: return lookup::ErrorCodeNameUnresolvable{};
    case EAI_AGAIN: return lookup::ErrorCodeTemporaryResolverFailure{};
    case EAI_FAIL: return lookup::ErrorCodePermanentResolverFailure{};
    default: return lookup::ErrorCodeOther{std::string(::gai_strerror(gai_error))};
  }
}

// Why a socket or lookup past config.max_sockets is refused, told to
// ctx.refused in 0.2's words but with the code 0.3 answers (`code`: its
// error-code has no new-socket-limit).
void refuse_past_limit(const WasiCtx& ctx, const std::string& what, const char* code) {
  ctx.refused("wasi:sockets: " + what + " refused: " + code + " (the instance holds " +
              std::to_string(ctx.config.max_sockets) + " sockets and lookups, its max_sockets)");
}

class IpNameLookupHost final : public lookup::Host {
 public:
  explicit IpNameLookupHost(WasiCtx& ctx) : ctx_(ctx) {}

  void resolve_addresses(const std::string& name, Reply<LookupResult> reply) override {
    if (auto ip = p2::literal_address(name)) {
      reply(LookupResult::ok({wit_ip(*ip)}));
      return;
    }
    if (!p2::valid_lookup_name(name)) {
      reply(LookupResult::err(lookup::ErrorCodeInvalidArgument{}));
      return;
    }
    if (!ctx_.config.sockets.allows_lookup(name)) {
      ctx_.refused("wasi:sockets: resolve-addresses of `" + name +
                   "` refused: access-denied (not in the names granted for lookup)");
      reply(LookupResult::err(lookup::ErrorCodeAccessDenied{}));
      return;
    }
    if (!ctx_.socket_room()) {
      refuse_past_limit(ctx_, "resolve-addresses of `" + name + "`", "other");
      reply(LookupResult::err(lookup::ErrorCodeOther{std::string("new-socket-limit")}));
      return;
    }
    // getaddrinfo blocks: it runs on a thread of its own, whose answer is
    // posted to the store's thread (the call holds its loop open meanwhile).
    auto poster = reply.reactor().poster();
    // Counted until the answer is back on the store's thread (so counted
    // once the thread started: its answer cannot come before this returns),
    // on the counter of the ctx it started in (a reset makes a new one).
    std::shared_ptr<size_t> lookups = ctx_.p3_lookups;
    try {
      // The reply moves on with the answer: the call is ended (or dropped)
      // on the store's thread, never on this one.
      std::thread([name, reply, poster, lookups]() mutable {
        auto found = std::make_shared<p2::NameLookup>(p2::lookup_name(name));
        poster.post([reply = std::move(reply), found, lookups = std::move(lookups)] {
          --*lookups;
          if (found->gai_error != 0) {
            reply(LookupResult::err(resolver_error(found->gai_error)));
            return;
          }
          std::vector<lookup::IpAddress> out;
          for (const auto& ip : found->addresses) out.push_back(wit_ip(ip));
          reply(LookupResult::ok(std::move(out)));
        });
      }).detach();
      ++*lookups;
    } catch (const std::system_error&) {
      reply(LookupResult::err(lookup::ErrorCodeOther{std::string("cannot start a lookup thread")}));
    }
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace

std::optional<SocketError> SocketsHost::refuse_new_socket(const char* what) {
  if (ctx_.socket_room()) return std::nullopt;
  refuse_past_limit(ctx_, what, "out-of-memory");
  return types::ErrorCodeOutOfMemory{};
}

std::optional<SocketError> SocketsHost::refuse_address(const char* what, const p2::SocketAddress& a, bool v6,
                                                       bool connect) {
  if (auto no = p2::refuse_address(ctx_, what, a, v6, connect)) return from_p2(*no);
  return std::nullopt;
}

SocketError invalid_state() { return types::ErrorCodeInvalidState{}; }
SocketError invalid_argument() { return types::ErrorCodeInvalidArgument{}; }
SocketError access_denied() { return types::ErrorCodeAccessDenied{}; }

SocketResult<uint8_t> hop_limit(int fd, bool v6) {
  if (v6) return option_result(p2::get_option<uint8_t>(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  return option_result(p2::get_option<uint8_t>(fd, IPPROTO_IP, IP_TTL));
}

SocketResult<wit::Unit> set_hop_limit(int fd, bool v6, uint8_t value) {
  if (value == 0) return fail<wit::Unit>(invalid_argument());
  if (v6) return set_result(p2::set_int_option(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, value));
  return set_result(p2::set_int_option(fd, IPPROTO_IP, IP_TTL, value));
}

SocketResult<uint64_t> buffer_size(int fd, int which) { return option_result(p2::get_buffer_size(fd, which)); }

SocketResult<wit::Unit> set_buffer_size(int fd, int which, uint64_t value) {
  if (value == 0) return fail<wit::Unit>(invalid_argument());
  return set_result(p2::set_buffer_size(fd, which, value));
}

SocketError from_p2(p2::SocketErrorCode code) {
  using C = p2::SocketErrorCode;
  switch (code) {
    case C::kAccessDenied: return types::ErrorCodeAccessDenied{};
    case C::kNotSupported: return types::ErrorCodeNotSupported{};
    case C::kInvalidArgument: return types::ErrorCodeInvalidArgument{};
    case C::kOutOfMemory:
    case C::kNewSocketLimit: return types::ErrorCodeOutOfMemory{};  // 0.3 has no new-socket-limit
    case C::kTimeout: return types::ErrorCodeTimeout{};
    case C::kInvalidState:
    case C::kConcurrencyConflict: return types::ErrorCodeInvalidState{};
    case C::kAddressNotBindable: return types::ErrorCodeAddressNotBindable{};
    case C::kAddressInUse: return types::ErrorCodeAddressInUse{};
    case C::kRemoteUnreachable: return types::ErrorCodeRemoteUnreachable{};
    case C::kConnectionRefused: return types::ErrorCodeConnectionRefused{};
    case C::kConnectionReset: return types::ErrorCodeConnectionReset{};
    case C::kConnectionAborted: return types::ErrorCodeConnectionAborted{};
    case C::kDatagramTooLarge: return types::ErrorCodeDatagramTooLarge{};
    default: return types::ErrorCodeOther{};
  }
}

SocketError socket_error(int err) {
  // WASI 0.3 tells a connection that cannot be written any more (EPIPE)
  // from one the peer reset.
  if (err == EPIPE) return types::ErrorCodeConnectionBroken{};
  auto code = p2::socket_error_code(err);
  if (code == p2::SocketErrorCode::kUnknown) return types::ErrorCodeOther{std::string(std::strerror(err))};
  return from_p2(code);
}

p2::SocketAddress from_wit(const types::IpSocketAddress& a) {
  return p2::address_from_wit<types::IpSocketAddressIpv4, types::IpSocketAddressIpv6>(a);
}

types::IpAddress wit_ip(const p2::IpAddress& ip) {
  return p2::ip_to_wit<types::IpAddress, types::IpAddressIpv4, types::IpAddressIpv6>(ip);
}

types::IpSocketAddress wit_address(const p2::SocketAddress& a) {
  return p2::address_to_wit<types::IpSocketAddress, types::IpSocketAddressIpv4, types::IpSocketAddressIpv6,
                            types::IpAddress, types::IpAddressIpv4, types::IpAddressIpv6>(a);
}

namespace {

wit::WitResult<types::IpSocketAddress, SocketError> address_result(
    const std::variant<p2::SocketAddress, p2::SocketErrorCode>& a) {
  using R = wit::WitResult<types::IpSocketAddress, SocketError>;
  if (const auto* code = std::get_if<p2::SocketErrorCode>(&a)) return R::err(from_p2(*code));
  return R::ok(wit_address(std::get<p2::SocketAddress>(a)));
}

}  // namespace

wit::WitResult<types::IpSocketAddress, SocketError> local_address(int fd) {
  return address_result(p2::local_address_of(fd));
}

wit::WitResult<types::IpSocketAddress, SocketError> remote_address(int fd) {
  return address_result(p2::peer_address_of(fd));
}

p2::SocketAddress unspecified_address(bool v6) {
  p2::SocketAddress a;
  a.ip.v6 = v6;
  return a;
}

void answer(const std::shared_ptr<component::HostWriteEnd>& done, const SocketStatus& status) {
  component::Val v;
  {
    wit::HostResourcesScope none(nullptr);
    v = wit::to_val(status);
  }
  auto ok =
      done->write(component::HostElements::of_values({v}), [done](component::CopyResult, uint32_t) { done->drop(); });
  if (!ok.ok()) done->drop();
}

Result<void> define_sockets(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  // types first: ip-name-lookup uses its ip-address.
  auto& sockets = keep.keep(std::make_shared<SocketsHost>(ctx, linker.reactor(), resources));
  STRATUS_TRY(define_versions(linker, types::kInterface, types::make_host_instance(sockets, resources)));
  auto& names = keep.keep(std::make_shared<IpNameLookupHost>(ctx));
  STRATUS_TRY(define_versions(linker, lookup::kInterface, lookup::make_host_instance(names, resources)));
  return {};
}

}  // namespace stratus::wasi::p3

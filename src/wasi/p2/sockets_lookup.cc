// wasi:sockets/ip-name-lookup. getaddrinfo blocks, so each lookup runs on a
// thread of its own and signals an eventfd when its answer is in: the
// stream's pollable is that eventfd, and the guest's thread never waits in
// the resolver. Only names the policy grants are looked up; an IP literal
// is answered as it is, without a lookup.
#include <netdb.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "wasi/p2/sockets_wit.h"

namespace stratus::wasi::p2 {
namespace {

namespace lookup = ::wasi::sockets::ip_name_lookup;
namespace poll = ::wasi::io::poll;
using wit::HostResult;
using C = SocketErrorCode;

C resolver_error(int gai_error) {
  switch (gai_error) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
    case EAI_ADDRFAMILY: return C::kNameUnresolvable;
    case EAI_AGAIN: return C::kTemporaryResolverFailure;
    case EAI_FAIL: return C::kPermanentResolverFailure;
    case EAI_MEMORY: return C::kOutOfMemory;
    default: return C::kUnknown;
  }
}

void resolve(const std::string& name, ResolveAddressStream::Answer& answer) {
  NameLookup found = lookup_name(name);
  std::lock_guard lock(answer.mutex);
  answer.gai_error = found.gai_error;
  answer.addresses = std::move(found.addresses);
  answer.finished = true;
  uint64_t one = 1;
  (void)::write(answer.done->get(), &one, sizeof one);
}

class IpNameLookupHost final : public lookup::Host {
 public:
  explicit IpNameLookupHost(WasiCtx& ctx) : ctx_(ctx) {}

  void drop_resolve_address_stream(uint32_t rep) override { ctx_.resolve_address_streams.remove(rep); }

  SocketResult<lookup::ResolveAddressStream> resolve_addresses(const lookup::NetworkBorrow& network,
                                                               const std::string& name) override {
    if (!known_network(ctx_, network.rep)) return guest_error("unknown network");
    if (auto no = refuse_new_socket(ctx_, "resolve-addresses")) return socket_fail(*no);
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) return socket_fail_errno(errno);
    auto answer = std::make_shared<ResolveAddressStream::Answer>();
    answer->done = std::make_shared<OwnedFd>(efd);

    if (auto ip = literal_address(name)) {
      answer->addresses.push_back(*ip);
      answer->finished = true;
      uint64_t one = 1;
      (void)::write(efd, &one, sizeof one);
    } else {
      if (!valid_lookup_name(name)) return socket_fail(C::kInvalidArgument);
      if (!ctx_.config.sockets.allows_lookup(name)) {
        ctx_.refused("wasi:sockets: resolve-addresses of `" + name +
                     "` refused: access-denied (not in the names granted for lookup)");
        return socket_fail(C::kAccessDenied);
      }
      try {
        std::thread([name, answer] { resolve(name, *answer); }).detach();
      } catch (const std::system_error&) {
        return socket_fail(C::kOutOfMemory);
      }
    }
    auto stream = std::make_shared<ResolveAddressStream>();
    stream->answer = std::move(answer);
    return socket_ok(lookup::ResolveAddressStream{ctx_.resolve_address_streams.add(std::move(stream))});
  }

  SocketResult<std::optional<lookup::IpAddress>> resolve_address_stream_resolve_next_address(
      const lookup::ResolveAddressStreamBorrow& self) override {
    auto s = ctx_.resolve_address_streams.get(self.rep);
    if (!s) return guest_error("unknown resolve-address-stream");
    auto& answer = *s->answer;
    std::lock_guard lock(answer.mutex);
    if (!answer.finished) return socket_fail(C::kWouldBlock);
    if (answer.gai_error != 0) return socket_fail(resolver_error(answer.gai_error));
    if (s->next >= answer.addresses.size()) return socket_ok(std::optional<lookup::IpAddress>{});
    return socket_ok(std::optional<lookup::IpAddress>{to_wit(answer.addresses[s->next++])});
  }

  HostResult<poll::Pollable> resolve_address_stream_subscribe(const lookup::ResolveAddressStreamBorrow& self) override {
    auto s = ctx_.resolve_address_streams.get(self.rep);
    if (!s) return guest_error("unknown resolve-address-stream");
    const auto& done = s->answer->done;
    return poll::Pollable{
        ctx_.pollables.add(std::make_shared<Pollable>(Pollable{Pollable::Kind::Readable, 0, done, done->get()}))};
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace

bool valid_lookup_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return name.front() != '.' && name.find("..") == std::string::npos;
}

std::optional<IpAddress> literal_address(const std::string& name) {
  std::string literal = name;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  return IpAddress::parse(literal);
}

NameLookup lookup_name(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  addrinfo* list = nullptr;
  NameLookup found;
  found.gai_error = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (found.gai_error != 0) return found;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    sockaddr_storage storage{};
    std::memcpy(&storage, ai->ai_addr, std::min<size_t>(ai->ai_addrlen, sizeof storage));
    auto a = from_native(storage);
    if (a && std::find(found.addresses.begin(), found.addresses.end(), a->ip) == found.addresses.end())
      found.addresses.push_back(a->ip);
  }
  ::freeaddrinfo(list);
  return found;
}

Result<void> define_ip_name_lookup(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources,
                                   HostObjects& keep) {
  return lookup::define(linker, keep.keep(std::make_shared<IpNameLookupHost>(ctx)), resources);
}

}  // namespace stratus::wasi::p2

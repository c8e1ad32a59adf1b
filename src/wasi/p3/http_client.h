// Internal to wasi/p3: wasi:http/client@0.3.x's `send`, on the WASI 0.2
// client's connection code (p2/http_client.h: the same `--allow-host`
// rules, the same request thread and its error-codes), and the body of the
// response it received as the guest consumes it.
//
// Nothing here blocks the store's thread: the request's thread and the
// guest meet through ByteChannels and the exchange's eventfds, which the
// store's reactor watches. The request body goes from the guest's stream
// into a bounded channel (a guest writing faster than the connection takes
// waits for room); the response body goes from the thread's bounded
// channel into a stream the host writes as the guest reads.
#pragma once

#include <memory>
#include <utility>

#include "component/runtime/reactor.h"
#include "wasi/p2/http_client.h"
#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {

// The body of a response the client received. Holding it keeps the request
// going; once it and the pumps that consume it are gone, the request's
// thread is cancelled (ExchangeHold).
struct ReceivedBody {
  std::shared_ptr<p2::ByteChannel> channel;
  std::shared_ptr<p2::ExchangeHold> hold;
};

// consume-body of a received response: the stream of its bytes and the
// future of its trailers (or of the error-code that cut the body short),
// handed to the guest. `resources` converts the trailers' handle.
std::pair<component::Val, component::Val> consume_received(const ReceivedBody& body, component::Reactor& reactor,
                                                           WasiCtx& ctx, wit::HostResources& resources);

Result<void> define_client(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);

}  // namespace stratus::wasi::p3

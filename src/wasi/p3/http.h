// wasi:http 0.3's host objects, and serving a request to a guest's
// wasi:http/handler: the request it gets, and its response sent to a
// connection (p2::ResponseSink) as the guest writes the body.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "component/runtime/host_async.h"
#include "wasi/p2/ctx.h"
#include "wasi/p2/http.h"

namespace stratus::wasi::p3 {

struct ReceivedBody;  // http_client.h

// The body of a request or a response: the stream and trailers future the
// guest gave `new`, or the body of a request the server received.
struct HttpBody {
  std::optional<component::Val> contents;  // stream<u8>
  std::optional<component::Val> trailers;  // future<result<option<trailers>, error-code>>
  std::shared_ptr<p2::InputStream> incoming;
  std::function<std::shared_ptr<p2::HttpFields>()> incoming_trailers;  // its trailers, once read (unset: none)
  // The body of a response the client received.
  std::shared_ptr<ReceivedBody> received;
  // The future `new` returned: answered once the body went out (or failed).
  std::shared_ptr<component::HostWriteEnd> transmitted;
  bool consumed = false;
};

struct HttpRequest {
  std::string method = "GET";
  std::optional<std::string> path_with_query, scheme, authority;
  std::shared_ptr<p2::HttpFields> headers;
  std::optional<p2::RequestOptions> options;
  HttpBody body;
};

struct HttpResponse {
  uint16_t status = 200;
  std::shared_ptr<p2::HttpFields> headers;
  HttpBody body;
};

// A request the server received, as a `request` handle's representation
// in `ctx` (its headers immutable, its body read as the guest reads it).
uint32_t add_served_request(p2::WasiCtx& ctx, p2::IncomingRequest request);

// Sends the guest's response `rep` to `sink`: the head at once, the body
// as the guest writes it (the store's loop must run for that). `done` runs
// once, with why it failed or nothing. The sink is kept as long as the
// body may still come; a caller that stops waiting must make it inert.
void send_response(p2::WasiCtx& ctx, uint32_t rep, std::shared_ptr<p2::ResponseSink> sink,
                   std::function<void(std::optional<std::string>)> done);

}  // namespace stratus::wasi::p3

// The client half of wasi:http 0.2: outgoing-handler.handle and the types it
// answers with (future-incoming-response, incoming-response, its body and
// trailers). Internal to wasi/p2: http.cc's hosts call these.
//
// Each request runs on a thread of its own (blocking socket code, every
// wait one poll(2) that also watches a cancel eventfd) and meets the guest
// through eventfds: the future's pollable is readable once the response head
// (or an error) is in; the response body is a ByteChannel the thread fills
// as bytes arrive. The request body streams the other way through a channel
// of its own: what the guest writes before `handle` is kept in memory, from
// then on it goes out as the guest writes it, with a bounded window. When
// the guest has dropped every handle of a request, the thread is cancelled
// and ends; it never touches the guest's WasiCtx.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasi/p2/hosts.h"
#include "wasi/p2/http.h"
#include "wasi/p2/http_exchange.h"
#include "wasi/p2/http_transport.h"

namespace stratus::wasi::p2 {

class HttpExchange;

// The guest's hold on one request: the handles that belong to it (the
// future, the response, its body stream and trailers) share it, and when the
// last of them is dropped the request is cancelled.
struct ExchangeHold {
  explicit ExchangeHold(std::shared_ptr<HttpExchange> x) : exchange(std::move(x)) {}
  ~ExchangeHold();
  ExchangeHold(const ExchangeHold&) = delete;
  ExchangeHold& operator=(const ExchangeHold&) = delete;
  std::shared_ptr<HttpExchange> exchange;
};

// Whether `allowed` (WasiConfig::allowed_hosts) grants `host`:`port`. An
// entry is a name (any port), `name:port`, or `*.suffix` for the subdomains
// of suffix; names compare without regard to case.
bool host_allowed(const std::vector<std::string>& allowed, std::string_view host, uint16_t port);

// What a guest's outbound request asks for, in either WASI version's words.
struct OutboundAsk {
  std::string method;
  std::optional<std::string> scheme, authority, path_with_query;
  const HttpFields* headers = nullptr;  // null: none
  bool has_body = false;
  const RequestOptions* options = nullptr;  // null: the defaults
};
// `ask` checked against `config`'s grants and made into what the request's
// thread sends (its body channel left for the caller to set); or the
// error-code that refuses it: HTTP-request-denied for a host not granted,
// HTTP-request-URI-invalid, HTTP-protocol-error for a scheme other than
// http and https (none: https).
std::variant<OutboundRequest, HttpErrorCode> outbound_request(const WasiConfig& config, const OutboundAsk& ask);
// Starts `request` on its thread: the exchange it fills in, or why not
// (connection-limit-reached past the process-wide limit, internal-error).
std::variant<std::shared_ptr<HttpExchange>, HttpErrorCode> start_outbound(OutboundRequest request);

namespace http_client {

namespace types = ::wasi::http::types;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

HostResult<WitResult<types::FutureIncomingResponse, types::ErrorCode>> handle(WasiCtx& ctx, uint32_t request,
                                                                              const std::optional<uint32_t>& options);

HostResult<::wasi::io::poll::Pollable> future_subscribe(WasiCtx& ctx, uint32_t future);
HostResult<std::optional<WitResult<WitResult<types::IncomingResponse, types::ErrorCode>, Unit>>> future_get(
    WasiCtx& ctx, uint32_t future);

HostResult<types::StatusCode> response_status(WasiCtx& ctx, uint32_t response);
HostResult<types::Fields> response_headers(WasiCtx& ctx, uint32_t response);
HostResult<WitResult<types::IncomingBody, Unit>> response_consume(WasiCtx& ctx, uint32_t response);

// The trailers of a response body (FutureTrailers::exchange is set).
Pollable trailers_pollable(const FutureTrailers& trailers);
HostResult<std::optional<WitResult<WitResult<std::optional<types::Fields>, types::ErrorCode>, Unit>>> trailers_get(
    WasiCtx& ctx, FutureTrailers& trailers);

// The body of `request` (outgoing-request.body), null when out of file
// descriptors.
std::shared_ptr<OutgoingBody> new_request_body(const OutgoingRequest& request);
// A request body (OutgoingBody::channel is set): the output-stream the guest
// writes it with, and what outgoing-body.finish and a drop do to it.
std::shared_ptr<OutputStream> request_body_output(std::shared_ptr<OutgoingBody> body);
std::optional<types::ErrorCode> finish_request_body(OutgoingBody& body);
void abandon_request_body(OutgoingBody& body);

}  // namespace http_client
}  // namespace stratus::wasi::p2

#include "wasi/p2/http_client.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cctype>

#include "wasi/p2/byte_channel.h"
#include "wasi/p2/http_exchange.h"

namespace stratus::wasi::p2 {
namespace {

namespace types = ::wasi::http::types;
using wit::Unit;
using wit::WitResult;

// A response body waits in memory up to this much for the guest to read it;
// a request body, once sent, up to this much for the connection to take it.
constexpr size_t kBodyWindow = 256 * 1024;
// Each request in flight is a thread: past this many, process-wide, new
// ones fail with connection-limit-reached rather than exhaust the host.
constexpr size_t kMaxRequestsRunning = 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// `host[:port]` or `[v6]:port` (an authority without userinfo): host and
// port, or nothing when it is not one.
std::optional<std::pair<std::string, uint16_t>> split_authority(std::string_view authority, uint16_t default_port) {
  if (authority.empty() || authority.find_first_of("@/?# \t\r\n") != std::string_view::npos) return std::nullopt;
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  uint32_t number = default_port;
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    number = static_cast<uint32_t>(std::stoul(std::string(port)));
    if (number == 0 || number > 65535) return std::nullopt;
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(number));
}

bool valid_path(std::string_view path) {
  if (path.empty() || (path.front() != '/' && path != "*")) return false;
  return std::none_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; });
}

std::optional<uint64_t> parse_content_length(const HttpFields& headers) {
  for (const auto& [name, value] : headers.entries) {
    if (!iequals(name, "content-length")) continue;
    if (value.empty() || value.size() > 19) return std::nullopt;
    uint64_t n = 0;
    for (uint8_t c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return std::nullopt;
}

// The output-stream of a request body: into its channel, within its
// content-length when the headers gave one.
class RequestBodyOutput final : public OutputStream {
 public:
  explicit RequestBodyOutput(std::shared_ptr<OutgoingBody> body) : body_(std::move(body)) {}
  std::variant<uint64_t, StreamFailure> check_write() override {
    if (body_->finished || body_->failed) return StreamFailure::end();
    return body_->channel->room();
  }
  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (body_->finished || body_->failed) return StreamFailure::end();
    auto& channel = *body_->channel;
    if (std::holds_alternative<StreamFailure>(channel.room())) return StreamFailure::end();
    if (body_->content_length && channel.total_pushed() + bytes.size() > *body_->content_length) {
      StreamFailure too_long{
          false, 0,
          "the request body is longer than its content-length (" + std::to_string(*body_->content_length) + ")"};
      body_->failed = true;
      channel.close(too_long);
      return too_long;
    }
    channel.push(bytes);
    return std::nullopt;
  }
  // Waits until the request's window has room again, so that a guest
  // writing with blocking-write-and-flush goes at the connection's pace.
  std::optional<StreamFailure> flush() override {
    for (;;) {
      auto room = body_->channel->room();
      if (std::holds_alternative<StreamFailure>(room)) return std::nullopt;
      if (std::get<uint64_t>(room) > 0) return std::nullopt;
      Pollable p = subscribe();
      wait_any({&p});
    }
  }
  Pollable subscribe() override {
    return Pollable{Pollable::Kind::Readable, 0, body_->channel->room_fd_owner(), body_->channel->room_fd()};
  }

 private:
  std::shared_ptr<OutgoingBody> body_;
};

}  // namespace

IncomingResponse::~IncomingResponse() {
  if (body && !body_taken) body->drop_reader();
}

ExchangeHold::~ExchangeHold() {
  if (exchange) exchange->cancel();
}

bool host_allowed(const std::vector<std::string>& allowed, std::string_view host, uint16_t port) {
  for (const auto& entry : allowed) {
    std::string_view name = entry;
    // `name:port` and `[v6]:port` limit the entry to one port.
    if (auto split = split_authority(entry, 0); split && split->second != 0) {
      if (split->second != port) continue;
      name = std::string_view(entry).substr(0, entry.rfind(':'));
    }
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    if (name.size() > 2 && name.substr(0, 2) == "*.") {
      std::string_view suffix = name.substr(1);  // ".example.com"
      if (host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix)) return true;
      continue;
    }
    if (iequals(name, host)) return true;
  }
  return false;
}

size_t outbound_http_requests_running() { return HttpExchange::running(); }

std::variant<OutboundRequest, HttpErrorCode> outbound_request(const WasiConfig& config, const OutboundAsk& ask) {
  std::string scheme = ask.scheme.value_or("https");
  if (scheme != "http" && scheme != "https") return types::ErrorCodeHttpProtocolError{};
  if (!ask.authority) return types::ErrorCodeHttpRequestUriInvalid{};
  auto target = split_authority(*ask.authority, scheme == "https" ? 443 : 80);
  if (!target) {
    if (config.on_refused)
      config.on_refused("wasi:http: a request to `" + *ask.authority +
                        "` refused: HTTP-request-URI-invalid (not HOST[:PORT])");
    return types::ErrorCodeHttpRequestUriInvalid{};
  }
  if (!host_allowed(config.allowed_hosts, target->first, target->second)) {
    if (config.on_refused)
      config.on_refused("wasi:http: a request to " + *ask.authority +
                        " refused: HTTP-request-denied (not in allowed_hosts)");
    return types::ErrorCodeHttpRequestDenied{};
  }
  std::string path = ask.path_with_query.value_or("/");
  if (!valid_path(path)) return types::ErrorCodeHttpRequestUriInvalid{};

  OutboundRequest out;
  out.method = ask.method;
  out.path = std::move(path);
  out.authority = *ask.authority;
  out.target = HttpTarget{target->first, target->second, scheme == "https"};
  if (ask.headers) out.headers = ask.headers->entries;
  if (ask.has_body && ask.headers) out.content_length = parse_content_length(*ask.headers);
  if (const auto* o = ask.options) {
    if (o->connect_timeout) out.connect_timeout_ns = *o->connect_timeout;
    if (o->first_byte_timeout) out.first_byte_timeout_ns = *o->first_byte_timeout;
    if (o->between_bytes_timeout) out.between_bytes_timeout_ns = *o->between_bytes_timeout;
  }
  return out;
}

namespace {

// The request's client span when the guest works under a trace (OTel's HTTP
// client conventions: named for the method, http.request.method, url.full,
// server.address, server.port), and its context in the request's
// `traceparent` and `tracestate` (replacing any the guest set).
observe::Span client_span(OutboundRequest& request) {
  if (observe::current_scope() == nullptr) [[likely]]
    return {};
  static constexpr std::string_view kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  bool known = std::find(std::begin(kMethods), std::end(kMethods), request.method) != std::end(kMethods);
  std::string method = known ? request.method : "_OTHER";
  auto span = observe::Span::child(known ? request.method : "HTTP", observe::SpanKind::kClient);
  if (!span.active()) return span;
  auto& a = span.attributes();
  a.emplace_back("http.request.method", method);
  if (!known) a.emplace_back("http.request.method_original", request.method);
  a.emplace_back("url.full",
                 std::string(request.target.tls ? "https://" : "http://") + request.authority + request.path);
  a.emplace_back("server.address", request.target.host);
  a.emplace_back("server.port", static_cast<int64_t>(request.target.port));
  auto& headers = request.headers;
  std::erase_if(headers, [](const auto& h) {
    return boost::beast::iequals(h.first, "traceparent") || boost::beast::iequals(h.first, "tracestate");
  });
  const auto& context = span.scope()->context;
  std::string traceparent = observe::format_traceparent(context);
  headers.emplace_back("traceparent", std::vector<uint8_t>(traceparent.begin(), traceparent.end()));
  if (!context.trace_state.empty())
    headers.emplace_back("tracestate", std::vector<uint8_t>(context.trace_state.begin(), context.trace_state.end()));
  return span;
}

}  // namespace

std::variant<std::shared_ptr<HttpExchange>, HttpErrorCode> start_outbound(OutboundRequest request) {
  if (HttpExchange::running() >= kMaxRequestsRunning) return types::ErrorCodeConnectionLimitReached{};
  auto exchange = HttpExchange::create();
  if (!exchange) return types::ErrorCodeInternalError{std::string("out of file descriptors")};
  if (auto span = client_span(request); span.active()) exchange->set_span(std::move(span));
  if (auto failed = start_request(exchange, std::move(request))) return types::ErrorCodeInternalError{*failed};
  return exchange;
}

namespace http_client {

HostResult<WitResult<types::FutureIncomingResponse, types::ErrorCode>> handle(WasiCtx& ctx, uint32_t request,
                                                                              const std::optional<uint32_t>& options) {
  using R = WitResult<types::FutureIncomingResponse, types::ErrorCode>;
  auto r = ctx.outgoing_requests.get(request);
  ctx.outgoing_requests.remove(request);
  if (!r) return guest_error("unknown outgoing-request");
  std::shared_ptr<RequestOptions> o;
  if (options) {
    o = ctx.request_options.get(*options);
    ctx.request_options.remove(*options);
    if (!o) return guest_error("unknown request-options");
  }
  std::shared_ptr<ByteChannel> body = r->body ? r->body->channel : nullptr;
  // A request that is not sent: a body the guest still writes fails.
  auto reject = [&](types::ErrorCode code) {
    if (body) body->drop_reader();
    return R::err(std::move(code));
  };
  auto out = outbound_request(ctx.config, OutboundAsk{r->method, r->scheme, r->authority, r->path_with_query,
                                                      r->headers.get(), body != nullptr, o.get()});
  if (auto* refused = std::get_if<HttpErrorCode>(&out)) return reject(*refused);
  auto& outbound = std::get<OutboundRequest>(out);
  outbound.body = body;
  outbound.content_length = r->body ? r->body->content_length : std::nullopt;
  auto started = start_outbound(std::move(outbound));
  if (auto* failed = std::get_if<HttpErrorCode>(&started)) return reject(*failed);
  // From now on what the guest writes goes out at the connection's pace.
  if (body) body->bound(kBodyWindow);
  auto future = std::make_shared<FutureIncomingResponse>();
  future->exchange = std::make_shared<ExchangeHold>(std::get<std::shared_ptr<HttpExchange>>(std::move(started)));
  return R::ok(types::FutureIncomingResponse{ctx.future_incoming_responses.add(std::move(future))});
}

HostResult<::wasi::io::poll::Pollable> future_subscribe(WasiCtx& ctx, uint32_t future) {
  auto f = ctx.future_incoming_responses.get(future);
  if (!f) return guest_error("unknown future-incoming-response");
  return ::wasi::io::poll::Pollable{ctx.pollables.add(std::make_shared<Pollable>(f->exchange->exchange->head_ready()))};
}

HostResult<std::optional<WitResult<WitResult<types::IncomingResponse, types::ErrorCode>, Unit>>> future_get(
    WasiCtx& ctx, uint32_t future) {
  using Inner = WitResult<types::IncomingResponse, types::ErrorCode>;
  using Outer = WitResult<Inner, Unit>;
  auto f = ctx.future_incoming_responses.get(future);
  if (!f) return guest_error("unknown future-incoming-response");
  auto head = f->exchange->exchange->head();
  if (!head) return std::optional<Outer>();
  if (f->taken) return std::optional<Outer>(Outer::err(Unit{}));
  f->taken = true;
  if (auto* error = std::get_if<HttpErrorCode>(&*head)) return std::optional<Outer>(Outer::ok(Inner::err(*error)));
  auto& h = std::get<HttpExchange::Head>(*head);
  auto response = std::make_shared<IncomingResponse>();
  response->status = h.status;
  response->headers = h.headers;
  response->body = h.body;
  response->exchange = f->exchange;
  uint32_t rep = ctx.incoming_responses.add(std::move(response));
  return std::optional<Outer>(Outer::ok(Inner::ok(types::IncomingResponse{rep})));
}

HostResult<types::StatusCode> response_status(WasiCtx& ctx, uint32_t response) {
  auto r = ctx.incoming_responses.get(response);
  if (!r) return guest_error("unknown incoming-response");
  return r->status;
}

HostResult<types::Fields> response_headers(WasiCtx& ctx, uint32_t response) {
  auto r = ctx.incoming_responses.get(response);
  if (!r) return guest_error("unknown incoming-response");
  return types::Fields{ctx.fields.add(r->headers)};
}

HostResult<WitResult<types::IncomingBody, Unit>> response_consume(WasiCtx& ctx, uint32_t response) {
  using R = WitResult<types::IncomingBody, Unit>;
  auto r = ctx.incoming_responses.get(response);
  if (!r) return guest_error("unknown incoming-response");
  if (r->body_taken) return R::err(Unit{});
  r->body_taken = true;
  auto body = std::make_shared<IncomingBody>();
  body->stream = channel_input(r->body, r->exchange);
  body->exchange = r->exchange;
  return R::ok(types::IncomingBody{ctx.incoming_bodies.add(std::move(body))});
}

Pollable trailers_pollable(const FutureTrailers& trailers) { return trailers.exchange->exchange->trailers_ready(); }

HostResult<std::optional<WitResult<WitResult<std::optional<types::Fields>, types::ErrorCode>, Unit>>> trailers_get(
    WasiCtx& ctx, FutureTrailers& trailers) {
  using Inner = WitResult<std::optional<types::Fields>, types::ErrorCode>;
  using Outer = WitResult<Inner, Unit>;
  auto t = trailers.exchange->exchange->trailers();
  if (!t) return std::optional<Outer>();
  if (trailers.taken) return std::optional<Outer>(Outer::err(Unit{}));
  trailers.taken = true;
  if (auto* error = std::get_if<HttpErrorCode>(&*t)) return std::optional<Outer>(Outer::ok(Inner::err(*error)));
  auto& fields = std::get<std::shared_ptr<HttpFields>>(*t);
  if (!fields) return std::optional<Outer>(Outer::ok(Inner::ok(std::nullopt)));
  return std::optional<Outer>(Outer::ok(Inner::ok(types::Fields{ctx.fields.add(fields)})));
}

std::shared_ptr<OutputStream> request_body_output(std::shared_ptr<OutgoingBody> body) {
  return std::make_shared<RequestBodyOutput>(std::move(body));
}

std::optional<types::ErrorCode> finish_request_body(OutgoingBody& body) {
  if (body.failed) return types::ErrorCodeHttpRequestBodySize{body.channel->total_pushed()};
  body.finished = true;
  uint64_t written = body.channel->total_pushed();
  if (body.content_length && written != *body.content_length) {
    body.failed = true;
    body.channel->close(StreamFailure{false, 0,
                                      "the request body has " + std::to_string(written) +
                                          " bytes, its content-length says " + std::to_string(*body.content_length)});
    return types::ErrorCodeHttpRequestBodySize{written};
  }
  body.channel->close();
  return std::nullopt;
}

void abandon_request_body(OutgoingBody& body) {
  if (body.finished) return;
  body.failed = true;
  body.channel->close(StreamFailure{false, 0, "the guest dropped the request body without finishing it"});
}

std::shared_ptr<OutgoingBody> new_request_body(const OutgoingRequest& request) {
  auto channel = ByteChannel::create(0);  // unbounded until the request is sent
  if (!channel) return nullptr;
  auto body = std::make_shared<OutgoingBody>();
  body->channel = std::move(channel);
  if (request.headers) body->content_length = parse_content_length(*request.headers);
  return body;
}

}  // namespace http_client
}  // namespace stratus::wasi::p2

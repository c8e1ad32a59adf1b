// wasi:http/types and wasi:http/outgoing-handler.
#include "wasi/p2/http.h"

#include <algorithm>
#include <cctype>

#include "wasi/p2/hosts.h"
#include "wasi/p2/http_client.h"

namespace stratus::wasi::p2 {

// Hop-by-hop and framing headers are the server's to write, not the guest's
// (as Wasmtime forbids them).
bool forbidden_header(const std::string& lower) {
  static const char* kForbidden[] = {"connection",
                                     "keep-alive",
                                     "proxy-connection",
                                     "transfer-encoding",
                                     "upgrade",
                                     "proxy-authenticate",
                                     "proxy-authorization",
                                     "te",
                                     "http2-settings",
                                     "host"};
  return std::any_of(std::begin(kForbidden), std::end(kForbidden), [&](const char* f) { return lower == f; });
}

// RFC 9110 token characters.
bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) return false;
  }
  return true;
}

bool valid_value(const std::vector<uint8_t>& value) {
  return std::none_of(value.begin(), value.end(), [](uint8_t c) { return c == '\r' || c == '\n' || c == 0; });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

namespace {

namespace types = ::wasi::http::types;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

std::optional<types::HeaderError> check_field(const std::string& name, const std::vector<uint8_t>& value) {
  if (!valid_name(name) || !valid_value(value)) return types::HeaderError{types::HeaderErrorInvalidSyntax{}};
  if (forbidden_header(lower(name))) return types::HeaderError{types::HeaderErrorForbidden{}};
  return std::nullopt;
}

types::Method method_of(const std::string& m) {
  if (m == "GET") return types::MethodGet{};
  if (m == "HEAD") return types::MethodHead{};
  if (m == "POST") return types::MethodPost{};
  if (m == "PUT") return types::MethodPut{};
  if (m == "DELETE") return types::MethodDelete{};
  if (m == "CONNECT") return types::MethodConnect{};
  if (m == "OPTIONS") return types::MethodOptions{};
  if (m == "TRACE") return types::MethodTrace{};
  if (m == "PATCH") return types::MethodPatch{};
  return types::MethodOther{m};
}

std::string method_name(const types::Method& m) {
  static const char* kNames[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  if (const auto* other = std::get_if<types::MethodOther>(&m)) return other->value;
  return kNames[m.index()];
}

// Writes of an outgoing body: kept until the response is sent, then passed
// straight to the connection.
class BodyOutput final : public OutputStream {
 public:
  explicit BodyOutput(std::shared_ptr<OutgoingBody> body) : body_(std::move(body)) {}
  std::variant<uint64_t, StreamFailure> check_write() override {
    if (body_->finished || body_->failed) return StreamFailure::end();
    return uint64_t{64 * 1024};
  }
  std::optional<StreamFailure> write(std::span<const uint8_t> bytes) override {
    if (body_->finished || body_->failed) return StreamFailure::end();
    if (body_->sink == nullptr) {
      body_->pending.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return std::nullopt;
    }
    auto failure = body_->sink->write(bytes);
    if (failure) body_->failed = true;
    return failure;
  }
  std::optional<StreamFailure> flush() override {
    if (body_->failed) return StreamFailure::end();
    if (body_->sink == nullptr) return std::nullopt;  // sent with the response
    auto failure = body_->sink->flush();
    if (failure) body_->failed = true;
    return failure;
  }
  Pollable subscribe() override { return Pollable{}; }

 private:
  std::shared_ptr<OutgoingBody> body_;
};

class TypesHost final : public types::Host {
 public:
  explicit TypesHost(WasiCtx& ctx) : ctx_(ctx) {}

  void drop_fields(uint32_t rep) override { ctx_.fields.remove(rep); }
  void drop_incoming_request(uint32_t rep) override { ctx_.incoming_requests.remove(rep); }
  void drop_outgoing_request(uint32_t rep) override { ctx_.outgoing_requests.remove(rep); }
  void drop_request_options(uint32_t rep) override { ctx_.request_options.remove(rep); }
  void drop_response_outparam(uint32_t rep) override { ctx_.response_outparams.remove(rep); }
  void drop_incoming_response(uint32_t rep) override { ctx_.incoming_responses.remove(rep); }
  void drop_incoming_body(uint32_t rep) override { ctx_.incoming_bodies.remove(rep); }
  void drop_future_trailers(uint32_t rep) override { ctx_.future_trailers.remove(rep); }
  void drop_outgoing_response(uint32_t rep) override { ctx_.outgoing_responses.remove(rep); }
  void drop_outgoing_body(uint32_t rep) override {
    // Dropped without finish: the body is incomplete; the server ends the
    // response as failed.
    if (auto body = ctx_.outgoing_bodies.get(rep); body && body->channel) {
      http_client::abandon_request_body(*body);
    } else if (body && !body->finished) {
      body->failed = true;
      if (body->sink) body->sink->fail("the guest dropped the response body without finishing it");
    }
    ctx_.outgoing_bodies.remove(rep);
  }
  void drop_future_incoming_response(uint32_t rep) override { ctx_.future_incoming_responses.remove(rep); }

  HostResult<std::optional<types::ErrorCode>> http_error_code(const ::wasi::io::error::ErrorBorrow&) override {
    return std::optional<types::ErrorCode>();
  }

  // ---- fields
  HostResult<types::Fields> fields_new() override { return new_fields(std::make_shared<HttpFields>()); }
  HostResult<WitResult<types::Fields, types::HeaderError>> fields_from_list(
      const std::vector<std::tuple<types::FieldName, types::FieldValue>>& entries) override {
    using R = WitResult<types::Fields, types::HeaderError>;
    auto f = std::make_shared<HttpFields>();
    for (const auto& [name, value] : entries) {
      if (auto e = check_field(name, value)) return R::err(*e);
      f->entries.emplace_back(name, value);
    }
    return R::ok(new_fields(std::move(f)));
  }
  HostResult<std::vector<types::FieldValue>> fields_get(const types::FieldsBorrow& self,
                                                        const types::FieldName& name) override {
    auto f = ctx_.fields.get(self.rep);
    if (!f) return guest_error("unknown fields");
    std::vector<types::FieldValue> out;
    std::string key = lower(name);
    for (const auto& [n, v] : f->entries)
      if (lower(n) == key) out.push_back(v);
    return out;
  }
  HostResult<bool> fields_has(const types::FieldsBorrow& self, const types::FieldName& name) override {
    auto values = fields_get(self, name);
    if (values.trapped()) return values.trap();
    return !values.value().empty();
  }
  HostResult<WitResult<Unit, types::HeaderError>> fields_set(const types::FieldsBorrow& self,
                                                             const types::FieldName& name,
                                                             const std::vector<types::FieldValue>& value) override {
    using R = WitResult<Unit, types::HeaderError>;
    auto f = ctx_.fields.get(self.rep);
    if (!f) return guest_error("unknown fields");
    if (f->immutable) return R::err(types::HeaderErrorImmutable{});
    for (const auto& v : value)
      if (auto e = check_field(name, v)) return R::err(*e);
    if (auto e = check_field(name, {})) return R::err(*e);
    erase(*f, name);
    for (const auto& v : value) f->entries.emplace_back(name, v);
    return R::ok(Unit{});
  }
  HostResult<WitResult<Unit, types::HeaderError>> fields_delete_(const types::FieldsBorrow& self,
                                                                 const types::FieldName& name) override {
    using R = WitResult<Unit, types::HeaderError>;
    auto f = ctx_.fields.get(self.rep);
    if (!f) return guest_error("unknown fields");
    if (f->immutable) return R::err(types::HeaderErrorImmutable{});
    if (auto e = check_field(name, {})) return R::err(*e);
    erase(*f, name);
    return R::ok(Unit{});
  }
  HostResult<WitResult<Unit, types::HeaderError>> fields_append(const types::FieldsBorrow& self,
                                                                const types::FieldName& name,
                                                                const types::FieldValue& value) override {
    using R = WitResult<Unit, types::HeaderError>;
    auto f = ctx_.fields.get(self.rep);
    if (!f) return guest_error("unknown fields");
    if (f->immutable) return R::err(types::HeaderErrorImmutable{});
    if (auto e = check_field(name, value)) return R::err(*e);
    f->entries.emplace_back(name, value);
    return R::ok(Unit{});
  }
  HostResult<std::vector<std::tuple<types::FieldName, types::FieldValue>>> fields_entries(
      const types::FieldsBorrow& self) override {
    auto f = ctx_.fields.get(self.rep);
    if (!f) return guest_error("unknown fields");
    std::vector<std::tuple<types::FieldName, types::FieldValue>> out;
    for (const auto& [n, v] : f->entries) out.emplace_back(n, v);
    return out;
  }
  HostResult<types::Fields> fields_clone(const types::FieldsBorrow& self) override {
    auto f = ctx_.fields.get(self.rep);
    if (!f) return guest_error("unknown fields");
    auto copy = std::make_shared<HttpFields>(*f);
    copy->immutable = false;
    return new_fields(std::move(copy));
  }

  // ---- incoming-request
  HostResult<types::Method> incoming_request_method(const types::IncomingRequestBorrow& self) override {
    auto r = ctx_.incoming_requests.get(self.rep);
    if (!r) return guest_error("unknown incoming-request");
    return method_of(r->method);
  }
  HostResult<std::optional<std::string>> incoming_request_path_with_query(
      const types::IncomingRequestBorrow& self) override {
    auto r = ctx_.incoming_requests.get(self.rep);
    if (!r) return guest_error("unknown incoming-request");
    return std::optional<std::string>(r->path_with_query);
  }
  HostResult<std::optional<types::Scheme>> incoming_request_scheme(const types::IncomingRequestBorrow& self) override {
    auto r = ctx_.incoming_requests.get(self.rep);
    if (!r) return guest_error("unknown incoming-request");
    if (r->scheme == "https") return std::optional<types::Scheme>(types::SchemeHttps{});
    return std::optional<types::Scheme>(types::SchemeHttp{});
  }
  HostResult<std::optional<std::string>> incoming_request_authority(const types::IncomingRequestBorrow& self) override {
    auto r = ctx_.incoming_requests.get(self.rep);
    if (!r) return guest_error("unknown incoming-request");
    if (r->authority.empty()) return std::optional<std::string>();
    return std::optional<std::string>(r->authority);
  }
  HostResult<types::Fields> incoming_request_headers(const types::IncomingRequestBorrow& self) override {
    auto r = ctx_.incoming_requests.get(self.rep);
    if (!r) return guest_error("unknown incoming-request");
    return types::Fields{ctx_.fields.add(r->headers)};
  }
  HostResult<WitResult<types::IncomingBody, Unit>> incoming_request_consume(
      const types::IncomingRequestBorrow& self) override {
    using R = WitResult<types::IncomingBody, Unit>;
    auto r = ctx_.incoming_requests.get(self.rep);
    if (!r) return guest_error("unknown incoming-request");
    if (r->body_taken) return R::err(Unit{});
    r->body_taken = true;
    auto body = std::make_shared<IncomingBody>();
    body->stream = r->body ? r->body : memory_input({});
    return R::ok(types::IncomingBody{ctx_.incoming_bodies.add(std::move(body))});
  }

  // ---- outgoing-request (the request object; sending it is outgoing-handler's)
  HostResult<types::OutgoingRequest> outgoing_request_new(const types::Fields& headers) override {
    auto f = take_fields(headers.rep);
    if (!f) return guest_error("unknown fields");
    auto req = std::make_shared<OutgoingRequest>();
    req->headers = std::move(f);
    return types::OutgoingRequest{ctx_.outgoing_requests.add(std::move(req))};
  }
  HostResult<WitResult<types::OutgoingBody, Unit>> outgoing_request_body(
      const types::OutgoingRequestBorrow& self) override {
    using R = WitResult<types::OutgoingBody, Unit>;
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    if (r->body_taken) return R::err(Unit{});
    r->body = http_client::new_request_body(*r);
    if (!r->body) return R::err(Unit{});
    r->body_taken = true;
    return R::ok(types::OutgoingBody{ctx_.outgoing_bodies.add(r->body)});
  }
  HostResult<types::Method> outgoing_request_method(const types::OutgoingRequestBorrow& self) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    return method_of(r->method);
  }
  HostResult<WitResult<Unit, Unit>> outgoing_request_set_method(const types::OutgoingRequestBorrow& self,
                                                                const types::Method& method) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    std::string m = method_name(method);
    if (!valid_name(m)) return WitResult<Unit, Unit>::err(Unit{});
    r->method = m;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<std::string>> outgoing_request_path_with_query(
      const types::OutgoingRequestBorrow& self) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    return r->path_with_query;
  }
  HostResult<WitResult<Unit, Unit>> outgoing_request_set_path_with_query(
      const types::OutgoingRequestBorrow& self, const std::optional<std::string>& path_with_query) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    r->path_with_query = path_with_query;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<types::Scheme>> outgoing_request_scheme(const types::OutgoingRequestBorrow& self) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    if (!r->scheme) return std::optional<types::Scheme>();
    if (*r->scheme == "http") return std::optional<types::Scheme>(types::SchemeHttp{});
    if (*r->scheme == "https") return std::optional<types::Scheme>(types::SchemeHttps{});
    return std::optional<types::Scheme>(types::SchemeOther{*r->scheme});
  }
  HostResult<WitResult<Unit, Unit>> outgoing_request_set_scheme(const types::OutgoingRequestBorrow& self,
                                                                const std::optional<types::Scheme>& scheme) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    if (!scheme) {
      r->scheme.reset();
    } else if (std::holds_alternative<types::SchemeHttp>(*scheme)) {
      r->scheme = "http";
    } else if (std::holds_alternative<types::SchemeHttps>(*scheme)) {
      r->scheme = "https";
    } else {
      r->scheme = std::get<types::SchemeOther>(*scheme).value;
    }
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<std::string>> outgoing_request_authority(const types::OutgoingRequestBorrow& self) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    return r->authority;
  }
  HostResult<WitResult<Unit, Unit>> outgoing_request_set_authority(
      const types::OutgoingRequestBorrow& self, const std::optional<std::string>& authority) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    r->authority = authority;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<types::Fields> outgoing_request_headers(const types::OutgoingRequestBorrow& self) override {
    auto r = ctx_.outgoing_requests.get(self.rep);
    if (!r) return guest_error("unknown outgoing-request");
    return child_fields(r->headers);
  }

  // ---- request-options
  HostResult<types::RequestOptions> request_options_new() override {
    return types::RequestOptions{ctx_.request_options.add(std::make_shared<RequestOptions>())};
  }
  HostResult<std::optional<types::Duration>> request_options_connect_timeout(
      const types::RequestOptionsBorrow& self) override {
    return option_get(self, &RequestOptions::connect_timeout);
  }
  HostResult<WitResult<Unit, Unit>> request_options_set_connect_timeout(
      const types::RequestOptionsBorrow& self, const std::optional<types::Duration>& d) override {
    return option_set(self, &RequestOptions::connect_timeout, d);
  }
  HostResult<std::optional<types::Duration>> request_options_first_byte_timeout(
      const types::RequestOptionsBorrow& self) override {
    return option_get(self, &RequestOptions::first_byte_timeout);
  }
  HostResult<WitResult<Unit, Unit>> request_options_set_first_byte_timeout(
      const types::RequestOptionsBorrow& self, const std::optional<types::Duration>& d) override {
    return option_set(self, &RequestOptions::first_byte_timeout, d);
  }
  HostResult<std::optional<types::Duration>> request_options_between_bytes_timeout(
      const types::RequestOptionsBorrow& self) override {
    return option_get(self, &RequestOptions::between_bytes_timeout);
  }
  HostResult<WitResult<Unit, Unit>> request_options_set_between_bytes_timeout(
      const types::RequestOptionsBorrow& self, const std::optional<types::Duration>& d) override {
    return option_set(self, &RequestOptions::between_bytes_timeout, d);
  }

  // ---- response-outparam
  HostResult<WitResult<Unit, types::ErrorCode>> response_outparam_send_informational(
      const types::ResponseOutparamBorrow&, const uint16_t&, const types::Fields& headers) override {
    take_fields(headers.rep);
    return WitResult<Unit, types::ErrorCode>::err(
        types::ErrorCodeInternalError{std::string("informational responses are not supported")});
  }
  HostResult<Unit> response_outparam_set(
      const types::ResponseOutparam& param,
      const WitResult<types::OutgoingResponse, types::ErrorCode>& response) override {
    auto out = ctx_.response_outparams.get(param.rep);
    ctx_.response_outparams.remove(param.rep);
    if (!out) return guest_error("unknown response-outparam");
    if (out->set) return guest_error("response-outparam.set called twice");
    out->set = true;
    if (!response.is_ok()) {
      if (out->sink) out->sink->fail(describe_http_error(response.error()));
      return Unit{};
    }
    auto r = ctx_.outgoing_responses.get(response.value().rep);
    ctx_.outgoing_responses.remove(response.value().rep);
    if (!r) return guest_error("unknown outgoing-response");
    if (!out->sink) return Unit{};
    if (auto failure = out->sink->start(r->status, *r->headers)) return Unit{};
    // The body (if the guest made one) now streams to the connection;
    // what it wrote so far goes first.
    if (r->body) {
      r->body->sink = out->sink;
      if (!r->body->pending.empty()) {
        std::string pending = std::move(r->body->pending);
        r->body->pending.clear();
        if (out->sink->write(std::span(reinterpret_cast<const uint8_t*>(pending.data()), pending.size())))
          r->body->failed = true;
      }
      if (r->body->finished) out->sink->finish();
    } else {
      out->sink->finish();
    }
    return Unit{};
  }

  // ---- incoming-response (the answer to an outgoing request: http_client.cc)
  HostResult<types::StatusCode> incoming_response_status(const types::IncomingResponseBorrow& self) override {
    return http_client::response_status(ctx_, self.rep);
  }
  HostResult<types::Fields> incoming_response_headers(const types::IncomingResponseBorrow& self) override {
    return http_client::response_headers(ctx_, self.rep);
  }
  HostResult<WitResult<types::IncomingBody, Unit>> incoming_response_consume(
      const types::IncomingResponseBorrow& self) override {
    return http_client::response_consume(ctx_, self.rep);
  }

  // ---- incoming-body
  HostResult<WitResult<::wasi::io::streams::InputStream, Unit>> incoming_body_stream(
      const types::IncomingBodyBorrow& self) override {
    using R = WitResult<::wasi::io::streams::InputStream, Unit>;
    auto b = ctx_.incoming_bodies.get(self.rep);
    if (!b) return guest_error("unknown incoming-body");
    if (b->stream_taken) return R::err(Unit{});
    b->stream_taken = true;
    return R::ok(::wasi::io::streams::InputStream{ctx_.input_streams.add(b->stream)});
  }
  HostResult<types::FutureTrailers> incoming_body_finish(const types::IncomingBody& body) override {
    auto b = ctx_.incoming_bodies.get(body.rep);
    ctx_.incoming_bodies.remove(body.rep);
    if (!b) return guest_error("unknown incoming-body");
    auto trailers = std::make_shared<FutureTrailers>();
    trailers->exchange = b->exchange;
    return types::FutureTrailers{ctx_.future_trailers.add(std::move(trailers))};
  }
  HostResult<::wasi::io::poll::Pollable> future_trailers_subscribe(const types::FutureTrailersBorrow& self) override {
    auto t = ctx_.future_trailers.get(self.rep);
    if (!t) return guest_error("unknown future-trailers");
    Pollable p = t->exchange ? http_client::trailers_pollable(*t) : Pollable{};
    return ::wasi::io::poll::Pollable{ctx_.pollables.add(std::make_shared<Pollable>(std::move(p)))};
  }
  // A served request carries no trailers here: the answer is ready at once,
  // and is none. A response's come when its body has ended.
  HostResult<std::optional<WitResult<WitResult<std::optional<types::Fields>, types::ErrorCode>, Unit>>>
  future_trailers_get(const types::FutureTrailersBorrow& self) override {
    using Inner = WitResult<std::optional<types::Fields>, types::ErrorCode>;
    using Outer = WitResult<Inner, Unit>;
    auto t = ctx_.future_trailers.get(self.rep);
    if (!t) return guest_error("unknown future-trailers");
    if (t->exchange) return http_client::trailers_get(ctx_, *t);
    if (t->taken) return std::optional<Outer>(Outer::err(Unit{}));
    t->taken = true;
    return std::optional<Outer>(Outer::ok(Inner::ok(std::optional<types::Fields>())));
  }

  // ---- outgoing-response
  HostResult<types::OutgoingResponse> outgoing_response_new(const types::Fields& headers) override {
    auto f = take_fields(headers.rep);
    if (!f) return guest_error("unknown fields");
    auto r = std::make_shared<OutgoingResponse>();
    r->headers = std::move(f);
    return types::OutgoingResponse{ctx_.outgoing_responses.add(std::move(r))};
  }
  HostResult<types::StatusCode> outgoing_response_status_code(const types::OutgoingResponseBorrow& self) override {
    auto r = ctx_.outgoing_responses.get(self.rep);
    if (!r) return guest_error("unknown outgoing-response");
    return r->status;
  }
  HostResult<WitResult<Unit, Unit>> outgoing_response_set_status_code(const types::OutgoingResponseBorrow& self,
                                                                      const types::StatusCode& status) override {
    auto r = ctx_.outgoing_responses.get(self.rep);
    if (!r) return guest_error("unknown outgoing-response");
    if (status < 100 || status > 999) return WitResult<Unit, Unit>::err(Unit{});
    r->status = status;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<types::Fields> outgoing_response_headers(const types::OutgoingResponseBorrow& self) override {
    auto r = ctx_.outgoing_responses.get(self.rep);
    if (!r) return guest_error("unknown outgoing-response");
    return child_fields(r->headers);
  }
  HostResult<WitResult<types::OutgoingBody, Unit>> outgoing_response_body(
      const types::OutgoingResponseBorrow& self) override {
    using R = WitResult<types::OutgoingBody, Unit>;
    auto r = ctx_.outgoing_responses.get(self.rep);
    if (!r) return guest_error("unknown outgoing-response");
    if (r->body_taken) return R::err(Unit{});
    r->body_taken = true;
    r->body = std::make_shared<OutgoingBody>();
    return R::ok(types::OutgoingBody{ctx_.outgoing_bodies.add(r->body)});
  }

  // ---- outgoing-body
  HostResult<WitResult<::wasi::io::streams::OutputStream, Unit>> outgoing_body_write(
      const types::OutgoingBodyBorrow& self) override {
    using R = WitResult<::wasi::io::streams::OutputStream, Unit>;
    auto b = ctx_.outgoing_bodies.get(self.rep);
    if (!b) return guest_error("unknown outgoing-body");
    if (b->stream_taken) return R::err(Unit{});
    b->stream_taken = true;
    std::shared_ptr<OutputStream> out =
        b->channel ? http_client::request_body_output(b) : std::make_shared<BodyOutput>(b);
    return R::ok(::wasi::io::streams::OutputStream{ctx_.output_streams.add(std::move(out))});
  }
  HostResult<WitResult<Unit, types::ErrorCode>> outgoing_body_finish(
      const types::OutgoingBody& body, const std::optional<types::Fields>& trailers) override {
    auto b = ctx_.outgoing_bodies.get(body.rep);
    ctx_.outgoing_bodies.remove(body.rep);
    if (!b) return guest_error("unknown outgoing-body");
    if (trailers) take_fields(trailers->rep);
    if (b->channel) {
      // A request body: trailers are not sent (HTTP/1.1 chunked trailers
      // are rarely honoured; the request goes without them).
      if (auto error = http_client::finish_request_body(*b)) return WitResult<Unit, types::ErrorCode>::err(*error);
      return WitResult<Unit, types::ErrorCode>::ok(Unit{});
    }
    b->finished = true;
    if (b->sink && !b->failed) b->sink->finish();
    return WitResult<Unit, types::ErrorCode>::ok(Unit{});
  }

  HostResult<::wasi::io::poll::Pollable> future_incoming_response_subscribe(
      const types::FutureIncomingResponseBorrow& self) override {
    return http_client::future_subscribe(ctx_, self.rep);
  }
  HostResult<std::optional<WitResult<WitResult<types::IncomingResponse, types::ErrorCode>, Unit>>>
  future_incoming_response_get(const types::FutureIncomingResponseBorrow& self) override {
    return http_client::future_get(ctx_, self.rep);
  }

 private:
  types::Fields new_fields(std::shared_ptr<HttpFields> f) { return types::Fields{ctx_.fields.add(std::move(f))}; }

  // A handle to fields that belong to a request or response: immutable.
  types::Fields child_fields(const std::shared_ptr<HttpFields>& f) {
    f->immutable = true;
    return types::Fields{ctx_.fields.add(f)};
  }

  // Fields passed by ownership into a request or response: from then on
  // they are the message's, immutable.
  std::shared_ptr<HttpFields> take_fields(uint32_t rep) {
    auto f = ctx_.fields.get(rep);
    ctx_.fields.remove(rep);
    if (f) f->immutable = true;
    return f;
  }

  static void erase(HttpFields& f, const std::string& name) {
    std::string key = lower(name);
    f.entries.erase(
        std::remove_if(f.entries.begin(), f.entries.end(), [&](const auto& e) { return lower(e.first) == key; }),
        f.entries.end());
  }

  HostResult<std::optional<types::Duration>> option_get(const types::RequestOptionsBorrow& self,
                                                        std::optional<uint64_t> RequestOptions::*field) {
    auto o = ctx_.request_options.get(self.rep);
    if (!o) return guest_error("unknown request-options");
    return (*o).*field;
  }
  HostResult<WitResult<Unit, Unit>> option_set(const types::RequestOptionsBorrow& self,
                                               std::optional<uint64_t> RequestOptions::*field,
                                               const std::optional<types::Duration>& d) {
    auto o = ctx_.request_options.get(self.rep);
    if (!o) return guest_error("unknown request-options");
    (*o).*field = d;
    return WitResult<Unit, Unit>::ok(Unit{});
  }

  WasiCtx& ctx_;
};

// Outbound HTTP (http_client.h), denied unless the host is granted
// (`--allow-host`).
class OutgoingHandlerHost final : public ::wasi::http::outgoing_handler::Host {
 public:
  explicit OutgoingHandlerHost(WasiCtx& ctx) : ctx_(ctx) {}
  HostResult<
      WitResult<::wasi::http::outgoing_handler::FutureIncomingResponse, ::wasi::http::outgoing_handler::ErrorCode>>
  handle(const ::wasi::http::outgoing_handler::OutgoingRequest& request,
         const std::optional<::wasi::http::outgoing_handler::RequestOptions>& options) override {
    std::optional<uint32_t> o;
    if (options) o = options->rep;
    return http_client::handle(ctx_, request.rep, o);
  }

 private:
  WasiCtx& ctx_;
};

}  // namespace

Result<void> define_http(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(types::define(linker, keep.keep(std::make_shared<TypesHost>(ctx)), resources));
  STRATUS_TRY(
      ::wasi::http::outgoing_handler::define(linker, keep.keep(std::make_shared<OutgoingHandlerHost>(ctx)), resources));
  return {};
}

}  // namespace stratus::wasi::p2

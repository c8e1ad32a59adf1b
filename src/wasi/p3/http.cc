// wasi:http 0.3: types (fields, request, response, request-options) and
// the server's side of a served request (http.h); the client is
// http_client.cc.
#include "wasi/p3/http.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "wasi/p3/byte_pumps.h"
#include "wasi/p3/hosts.h"
#include "wasi/p3/http_client.h"

namespace stratus::wasi::p3 {
namespace {

namespace types = ::p3::wasi::http::types;
using component::CopyResult;
using component::HostElements;
using component::Val;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

using TrailersResult = WitResult<std::optional<types::Fields>, types::ErrorCode>;
using TrailersFuture = wit::Future<TrailersResult>;
using StatusFuture = wit::Future<WitResult<Unit, types::ErrorCode>>;

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

// RFC 9110 field-value bytes: visible characters, obs-text, space and tab.
bool valid_field_value(const std::vector<uint8_t>& value) {
  return std::all_of(value.begin(), value.end(),
                     [](uint8_t c) { return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f); });
}

std::optional<types::HeaderError> check_field(const std::string& name, const std::vector<uint8_t>& value) {
  if (!p2::valid_name(name) || !valid_field_value(value)) return types::HeaderError{types::HeaderErrorInvalidSyntax{}};
  if (p2::forbidden_header(p2::lower(name))) return types::HeaderError{types::HeaderErrorForbidden{}};
  return std::nullopt;
}

// URI parts as RFC 3986 has them (and as Wasmtime's http crate checks them,
// which the wasi-testsuite's http programs follow).
bool reg_name_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("-._~%!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos;
}

bool valid_scheme(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; });
}

// Path and query: pchar, '/' and '?'; raw UTF-8 passes (it happens).
bool valid_path_with_query(const std::string& p) {
  return std::all_of(p.begin(), p.end(), [](unsigned char c) {
    return c >= 0x80 || reg_name_char(c) || c == ':' || c == '@' || c == '/' || c == '?';
  });
}

// [userinfo@]host[:port], the host a reg-name or an IP literal.
bool valid_authority(const std::string& a) {
  if (a.empty()) return false;
  std::string_view rest = a;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto user = rest.substr(0, at);
    if (!std::all_of(user.begin(), user.end(), [](unsigned char c) { return reg_name_char(c) || c == ':'; }))
      return false;
    rest = rest.substr(at + 1);
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    auto literal = rest.substr(1, close - 1);
    if (literal.empty() || !std::all_of(literal.begin(), literal.end(),
                                        [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; }))
      return false;
    host = rest.substr(0, close + 1);
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), reg_name_char)) return false;
  }
  return std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
}

Val no_trailers() {
  wit::HostResourcesScope none(nullptr);
  return wit::to_val(TrailersResult::ok(std::nullopt));
}

Val status_ok() {
  wit::HostResourcesScope none(nullptr);
  return wit::to_val(WitResult<Unit, types::ErrorCode>::ok(Unit{}));
}

class TypesHost final : public types::Host {
 public:
  TypesHost(WasiCtx& ctx, component::Reactor& reactor, wit::HostResources& resources)
      : ctx_(ctx), reactor_(reactor), resources_(resources) {}

  // ---------------------------------------------------------------- fields
  void drop_fields(uint32_t rep) override { ctx_.fields.remove(rep); }
  HostResult<types::Fields> fields_new() override { return types::Fields{ctx_.fields.add(fresh())}; }
  HostResult<WitResult<types::Fields, types::HeaderError>> fields_from_list(
      const std::vector<std::tuple<std::string, std::vector<uint8_t>>>& entries) override {
    auto f = fresh();
    for (const auto& [name, value] : entries) {
      if (auto e = check_field(name, value)) return WitResult<types::Fields, types::HeaderError>::err(*e);
      f->entries.emplace_back(name, value);
    }
    return WitResult<types::Fields, types::HeaderError>::ok(types::Fields{ctx_.fields.add(f)});
  }
  HostResult<std::vector<std::vector<uint8_t>>> fields_get(const types::FieldsBorrow& self,
                                                           const std::string& name) override {
    auto f = fields(self.rep);
    if (!f) return p2::guest_error("fields.get: unknown fields handle");
    std::vector<std::vector<uint8_t>> out;
    for (const auto& [n, v] : f->entries)
      if (same_name(n, name)) out.push_back(v);
    return out;
  }
  HostResult<bool> fields_has(const types::FieldsBorrow& self, const std::string& name) override {
    auto f = fields(self.rep);
    if (!f) return p2::guest_error("fields.has: unknown fields handle");
    return std::any_of(f->entries.begin(), f->entries.end(), [&](const auto& e) { return same_name(e.first, name); });
  }
  HostResult<WitResult<Unit, types::HeaderError>> fields_set(const types::FieldsBorrow& self, const std::string& name,
                                                             const std::vector<std::vector<uint8_t>>& values) override {
    auto f = mutable_fields(self.rep);
    if (auto* e = std::get_if<types::HeaderError>(&f)) return WitResult<Unit, types::HeaderError>::err(*e);
    auto& fs = *std::get<std::shared_ptr<p2::HttpFields>>(f);
    for (const auto& v : values)
      if (auto e = check_field(name, v)) return WitResult<Unit, types::HeaderError>::err(*e);
    erase(fs, name);
    for (const auto& v : values) fs.entries.emplace_back(name, v);
    return WitResult<Unit, types::HeaderError>::ok(Unit{});
  }
  HostResult<WitResult<Unit, types::HeaderError>> fields_delete_(const types::FieldsBorrow& self,
                                                                 const std::string& name) override {
    if (!p2::valid_name(name)) return WitResult<Unit, types::HeaderError>::err(types::HeaderErrorInvalidSyntax{});
    auto f = mutable_fields(self.rep);
    if (auto* e = std::get_if<types::HeaderError>(&f)) return WitResult<Unit, types::HeaderError>::err(*e);
    erase(*std::get<std::shared_ptr<p2::HttpFields>>(f), name);
    return WitResult<Unit, types::HeaderError>::ok(Unit{});
  }
  HostResult<WitResult<std::vector<std::vector<uint8_t>>, types::HeaderError>> fields_get_and_delete(
      const types::FieldsBorrow& self, const std::string& name) override {
    using R = WitResult<std::vector<std::vector<uint8_t>>, types::HeaderError>;
    if (!p2::valid_name(name)) return R::err(types::HeaderErrorInvalidSyntax{});
    auto f = mutable_fields(self.rep);
    if (auto* e = std::get_if<types::HeaderError>(&f)) return R::err(*e);
    auto& fs = *std::get<std::shared_ptr<p2::HttpFields>>(f);
    std::vector<std::vector<uint8_t>> out;
    for (const auto& [n, v] : fs.entries)
      if (same_name(n, name)) out.push_back(v);
    erase(fs, name);
    return R::ok(std::move(out));
  }
  HostResult<WitResult<Unit, types::HeaderError>> fields_append(const types::FieldsBorrow& self,
                                                                const std::string& name,
                                                                const std::vector<uint8_t>& value) override {
    auto f = mutable_fields(self.rep);
    if (auto* e = std::get_if<types::HeaderError>(&f)) return WitResult<Unit, types::HeaderError>::err(*e);
    if (auto e = check_field(name, value)) return WitResult<Unit, types::HeaderError>::err(*e);
    // A name already there keeps its first spelling (names are not case
    // sensitive; Wasmtime's http crate keeps one spelling per name).
    auto& entries = std::get<std::shared_ptr<p2::HttpFields>>(f)->entries;
    auto same = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return same_name(e.first, name); });
    entries.emplace_back(same == entries.end() ? name : same->first, value);
    return WitResult<Unit, types::HeaderError>::ok(Unit{});
  }
  HostResult<std::vector<std::tuple<std::string, std::vector<uint8_t>>>> fields_copy_all(
      const types::FieldsBorrow& self) override {
    auto f = fields(self.rep);
    if (!f) return p2::guest_error("fields.copy-all: unknown fields handle");
    std::vector<std::tuple<std::string, std::vector<uint8_t>>> out;
    for (const auto& [n, v] : f->entries) out.emplace_back(n, v);
    return out;
  }
  HostResult<types::Fields> fields_clone(const types::FieldsBorrow& self) override {
    auto f = fields(self.rep);
    if (!f) return p2::guest_error("fields.clone: unknown fields handle");
    auto copy = std::make_shared<p2::HttpFields>(*f);
    copy->immutable = false;
    return types::Fields{ctx_.fields.add(copy)};
  }

  // ---------------------------------------------------------------- request
  void drop_request(uint32_t rep) override { ctx_.p3_requests.remove(rep); }
  HostResult<std::tuple<types::Request, StatusFuture>> request_new_(
      const types::Fields& headers, const std::optional<wit::Stream<uint8_t>>& contents, const TrailersFuture& trailers,
      const std::optional<types::RequestOptions>& options) override {
    auto r = std::make_shared<HttpRequest>();
    r->headers = take_fields(headers.rep);
    if (!r->headers) return p2::guest_error("request.new: unknown fields handle");
    if (options) {
      auto o = ctx_.request_options.get(options->rep);
      if (!o) return p2::guest_error("request.new: unknown request-options handle");
      r->options = *o;
      ctx_.request_options.remove(options->rep);
    }
    auto future = set_body(r->body, contents, trailers);
    return std::make_tuple(types::Request{ctx_.p3_requests.add(r)}, future);
  }
  HostResult<types::Method> request_get_method(const types::RequestBorrow& self) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    return method_of(r->method);
  }
  HostResult<WitResult<Unit, Unit>> request_set_method(const types::RequestBorrow& self,
                                                       const types::Method& method) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    std::string name = method_name(method);
    if (!p2::valid_name(name)) return WitResult<Unit, Unit>::err(Unit{});
    r->method = name;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<std::string>> request_get_path_with_query(const types::RequestBorrow& self) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    return r->path_with_query;
  }
  HostResult<WitResult<Unit, Unit>> request_set_path_with_query(const types::RequestBorrow& self,
                                                                const std::optional<std::string>& p) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    if (p && !valid_path_with_query(*p)) return WitResult<Unit, Unit>::err(Unit{});
    r->path_with_query = p && p->empty() ? std::optional<std::string>("/") : p;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<types::Scheme>> request_get_scheme(const types::RequestBorrow& self) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    if (!r->scheme) return std::optional<types::Scheme>();
    if (*r->scheme == "http") return std::optional<types::Scheme>(types::SchemeHttp{});
    if (*r->scheme == "https") return std::optional<types::Scheme>(types::SchemeHttps{});
    return std::optional<types::Scheme>(types::SchemeOther{*r->scheme});
  }
  HostResult<WitResult<Unit, Unit>> request_set_scheme(const types::RequestBorrow& self,
                                                       const std::optional<types::Scheme>& s) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    if (!s) {
      r->scheme.reset();
    } else if (std::holds_alternative<types::SchemeHttp>(*s)) {
      r->scheme = "http";
    } else if (std::holds_alternative<types::SchemeHttps>(*s)) {
      r->scheme = "https";
    } else {
      const auto& other = std::get<types::SchemeOther>(*s).value;
      if (!valid_scheme(other)) return WitResult<Unit, Unit>::err(Unit{});
      r->scheme = other;
    }
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<std::string>> request_get_authority(const types::RequestBorrow& self) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    return r->authority;
  }
  HostResult<WitResult<Unit, Unit>> request_set_authority(const types::RequestBorrow& self,
                                                          const std::optional<std::string>& a) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    if (a && !valid_authority(*a)) return WitResult<Unit, Unit>::err(Unit{});
    r->authority = a;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<std::optional<types::RequestOptions>> request_get_options(const types::RequestBorrow& self) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    if (!r->options) return std::optional<types::RequestOptions>();
    return std::optional(
        types::RequestOptions{ctx_.request_options.add(std::make_shared<p2::RequestOptions>(*r->options))});
  }
  HostResult<types::Fields> request_get_headers(const types::RequestBorrow& self) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request: unknown handle");
    return types::Fields{ctx_.fields.add(r->headers)};
  }
  HostResult<std::tuple<wit::Stream<uint8_t>, TrailersFuture>> request_consume_body(const types::Request& self,
                                                                                    const StatusFuture& res) override {
    auto r = request(self.rep);
    if (!r) return p2::guest_error("request.consume-body: unknown handle");
    ctx_.p3_requests.remove(self.rep);
    return consume(r->body, res);
  }

  // ---------------------------------------------------------- request-options
  void drop_request_options(uint32_t rep) override { ctx_.request_options.remove(rep); }
  HostResult<types::RequestOptions> request_options_new() override {
    return types::RequestOptions{ctx_.request_options.add(std::make_shared<p2::RequestOptions>())};
  }
  HostResult<std::optional<uint64_t>> request_options_get_connect_timeout(
      const types::RequestOptionsBorrow& self) override {
    return option_get(self, &p2::RequestOptions::connect_timeout);
  }
  HostResult<WitResult<Unit, types::RequestOptionsError>> request_options_set_connect_timeout(
      const types::RequestOptionsBorrow& self, const std::optional<uint64_t>& d) override {
    return option_set(self, &p2::RequestOptions::connect_timeout, d);
  }
  HostResult<std::optional<uint64_t>> request_options_get_first_byte_timeout(
      const types::RequestOptionsBorrow& self) override {
    return option_get(self, &p2::RequestOptions::first_byte_timeout);
  }
  HostResult<WitResult<Unit, types::RequestOptionsError>> request_options_set_first_byte_timeout(
      const types::RequestOptionsBorrow& self, const std::optional<uint64_t>& d) override {
    return option_set(self, &p2::RequestOptions::first_byte_timeout, d);
  }
  HostResult<std::optional<uint64_t>> request_options_get_between_bytes_timeout(
      const types::RequestOptionsBorrow& self) override {
    return option_get(self, &p2::RequestOptions::between_bytes_timeout);
  }
  HostResult<WitResult<Unit, types::RequestOptionsError>> request_options_set_between_bytes_timeout(
      const types::RequestOptionsBorrow& self, const std::optional<uint64_t>& d) override {
    return option_set(self, &p2::RequestOptions::between_bytes_timeout, d);
  }
  HostResult<types::RequestOptions> request_options_clone(const types::RequestOptionsBorrow& self) override {
    auto o = ctx_.request_options.get(self.rep);
    if (!o) return p2::guest_error("request-options: unknown handle");
    return types::RequestOptions{ctx_.request_options.add(std::make_shared<p2::RequestOptions>(*o))};
  }

  // ---------------------------------------------------------------- response
  void drop_response(uint32_t rep) override { ctx_.p3_responses.remove(rep); }
  HostResult<std::tuple<types::Response, StatusFuture>> response_new_(
      const types::Fields& headers, const std::optional<wit::Stream<uint8_t>>& contents,
      const TrailersFuture& trailers) override {
    auto r = std::make_shared<HttpResponse>();
    r->headers = take_fields(headers.rep);
    if (!r->headers) return p2::guest_error("response.new: unknown fields handle");
    auto future = set_body(r->body, contents, trailers);
    return std::make_tuple(types::Response{ctx_.p3_responses.add(r)}, future);
  }
  HostResult<uint16_t> response_get_status_code(const types::ResponseBorrow& self) override {
    auto r = ctx_.p3_responses.get(self.rep);
    if (!r) return p2::guest_error("response: unknown handle");
    return r->status;
  }
  HostResult<WitResult<Unit, Unit>> response_set_status_code(const types::ResponseBorrow& self,
                                                             const uint16_t& status) override {
    auto r = ctx_.p3_responses.get(self.rep);
    if (!r) return p2::guest_error("response: unknown handle");
    if (status < 100 || status > 599) return WitResult<Unit, Unit>::err(Unit{});
    r->status = status;
    return WitResult<Unit, Unit>::ok(Unit{});
  }
  HostResult<types::Fields> response_get_headers(const types::ResponseBorrow& self) override {
    auto r = ctx_.p3_responses.get(self.rep);
    if (!r) return p2::guest_error("response: unknown handle");
    return types::Fields{ctx_.fields.add(r->headers)};
  }
  HostResult<std::tuple<wit::Stream<uint8_t>, TrailersFuture>> response_consume_body(const types::Response& self,
                                                                                     const StatusFuture& res) override {
    auto r = ctx_.p3_responses.get(self.rep);
    if (!r) return p2::guest_error("response.consume-body: unknown handle");
    ctx_.p3_responses.remove(self.rep);
    return consume(r->body, res);
  }

 private:
  static std::shared_ptr<p2::HttpFields> fresh() { return std::make_shared<p2::HttpFields>(); }
  static bool same_name(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  }
  static void erase(p2::HttpFields& f, const std::string& name) {
    std::erase_if(f.entries, [&](const auto& e) { return same_name(e.first, name); });
  }
  std::shared_ptr<p2::HttpFields> fields(uint32_t rep) const { return ctx_.fields.get(rep); }
  std::variant<std::shared_ptr<p2::HttpFields>, types::HeaderError> mutable_fields(uint32_t rep) const {
    auto f = ctx_.fields.get(rep);
    if (!f) return types::HeaderError{types::HeaderErrorOther{std::string("unknown fields handle")}};
    if (f->immutable) return types::HeaderError{types::HeaderErrorImmutable{}};
    return f;
  }
  // Fields given to a request or response: theirs from now on, immutable.
  std::shared_ptr<p2::HttpFields> take_fields(uint32_t rep) {
    auto f = ctx_.fields.get(rep);
    if (!f) return nullptr;
    ctx_.fields.remove(rep);
    f->immutable = true;
    return f;
  }
  std::shared_ptr<HttpRequest> request(uint32_t rep) const { return ctx_.p3_requests.get(rep); }

  StatusFuture set_body(HttpBody& body, const std::optional<wit::Stream<uint8_t>>& contents,
                        const TrailersFuture& trailers) {
    if (contents) body.contents = contents->end;
    body.trailers = trailers.end;
    auto [end, future] = StatusFuture::make();
    body.transmitted = std::make_shared<component::HostWriteEnd>(std::move(end));
    return future;
  }

  // consume-body: the body's stream and trailers. A guest's own body is
  // handed back as it came; a served request's streams from the connection.
  // `res` (how the consumer fared) is the guest's to write; the host only
  // listens for it going away.
  HostResult<std::tuple<wit::Stream<uint8_t>, TrailersFuture>> consume(HttpBody& body, const StatusFuture& res) {
    if (body.consumed) return p2::guest_error("consume-body: the body was consumed already");
    body.consumed = true;
    if (auto reader = res.reader(); reader.ok()) reader->drop();
    if (body.received) {
      auto [data, trailers] = consume_received(*body.received, reactor_, ctx_, resources_);
      body.received.reset();
      return std::make_tuple(wit::Stream<uint8_t>{data}, TrailersFuture{trailers});
    }
    if (body.incoming) {
      auto [data, stream] = wit::Stream<uint8_t>::make();
      auto [trailers_end, trailers] = TrailersFuture::make();
      auto t = std::make_shared<component::HostWriteEnd>(std::move(trailers_end));
      // The trailers once the body was read to its end; a body that failed
      // (the client went away, a malformed chunk) answers with why.
      pump_from_input(std::move(data), body.incoming,
                      [t, get = body.incoming_trailers, ctx = &ctx_,
                       resources = &resources_](std::optional<p2::StreamFailure> failure) {
                        wit::HostResourcesScope scope(resources);
                        if (failure) {
                          answer_future(t, wit::to_val(TrailersResult::err(types::ErrorCodeInternalError{
                                               "the request body: " + failure->message})));
                          return;
                        }
                        auto fields = get ? get() : nullptr;
                        if (!fields) {
                          answer_future(t, no_trailers());
                          return;
                        }
                        answer_future(t, wit::to_val(TrailersResult::ok(types::Fields{ctx->fields.add(fields)})));
                      });
      return std::make_tuple(stream, trailers);
    }
    wit::Stream<uint8_t> stream;
    if (body.contents) {
      stream.end = *body.contents;
    } else {
      auto [empty, s] = wit::Stream<uint8_t>::make();
      empty.drop();
      stream = s;
    }
    TrailersFuture trailers;
    trailers.end = *body.trailers;
    answer_future(body.transmitted, status_ok());
    return std::make_tuple(stream, trailers);
  }

  template <class Field>
  HostResult<std::optional<uint64_t>> option_get(const types::RequestOptionsBorrow& self, Field field) {
    auto o = ctx_.request_options.get(self.rep);
    if (!o) return p2::guest_error("request-options: unknown handle");
    return (*o).*field;
  }
  template <class Field>
  HostResult<WitResult<Unit, types::RequestOptionsError>> option_set(const types::RequestOptionsBorrow& self,
                                                                     Field field, const std::optional<uint64_t>& d) {
    auto o = ctx_.request_options.get(self.rep);
    if (!o) return p2::guest_error("request-options: unknown handle");
    (*o).*field = d;
    return WitResult<Unit, types::RequestOptionsError>::ok(Unit{});
  }

  WasiCtx& ctx_;
  component::Reactor& reactor_;
  wit::HostResources& resources_;
};

// A response body's writes, to the connection's sink.
class SinkOutput final : public p2::OutputStream {
 public:
  explicit SinkOutput(std::shared_ptr<p2::ResponseSink> sink) : sink_(std::move(sink)) {}
  std::variant<uint64_t, p2::StreamFailure> check_write() override { return uint64_t{64 * 1024}; }
  std::optional<p2::StreamFailure> write(std::span<const uint8_t> bytes) override { return sink_->write(bytes); }
  std::optional<p2::StreamFailure> flush() override { return sink_->flush(); }
  p2::Pollable subscribe() override { return p2::Pollable{}; }

 private:
  std::shared_ptr<p2::ResponseSink> sink_;
};

}  // namespace

uint32_t add_served_request(p2::WasiCtx& ctx, p2::IncomingRequest in) {
  auto r = std::make_shared<HttpRequest>();
  r->method = in.method;
  r->path_with_query = in.path_with_query;
  r->authority = in.authority;
  r->scheme = in.scheme;
  r->headers = in.headers ? in.headers : std::make_shared<p2::HttpFields>();
  r->headers->immutable = true;
  r->body.incoming = in.body ? in.body : p2::memory_input({});
  r->body.incoming_trailers = std::move(in.trailers);
  return ctx.p3_requests.add(r);
}

void send_response(p2::WasiCtx& ctx, uint32_t rep, std::shared_ptr<p2::ResponseSink> sink_ptr,
                   std::function<void(std::optional<std::string>)> done) {
  p2::ResponseSink& sink = *sink_ptr;
  auto r = ctx.p3_responses.get(rep);
  ctx.p3_responses.remove(rep);
  if (!r) {
    done("the handler returned an unknown response handle");
    return;
  }
  if (r->body.received) {
    // Its body is the client's channel, not a stream the guest gave: the
    // guest must consume it and hand the stream to a response of its own.
    done(
        "the handler returned a response it received from wasi:http/client as it is (serving one is not supported: "
        "consume its body and give it to response.new)");
    return;
  }
  if (auto failed = sink.start(r->status, *r->headers)) {
    answer_future(r->body.transmitted, status_ok());
    done("sending the response head: " + failed->message);
    return;
  }
  auto transmitted = r->body.transmitted;
  auto finish = [sink_ptr, transmitted, done](std::optional<std::string> why) {
    if (!why) sink_ptr->finish();
    answer_future(transmitted, status_ok());
    done(std::move(why));
  };
  std::shared_ptr<component::HostReadEnd> trailers;
  if (r->body.trailers) {
    if (auto t = component::HostReadEnd::take(*r->body.trailers); t.ok())
      trailers = std::make_shared<component::HostReadEnd>(std::move(*t));
  }
  // Once the body is whole: the trailers the guest writes to its future go
  // out after it (a future dropped unwritten: none); an error-code there
  // fails the response, as a body cut short does.
  auto after_body = [&ctx, sink_ptr, trailers, finish](std::optional<std::string> why) {
    if (why || !trailers) {
      if (trailers) trailers->drop();
      finish(std::move(why));
      return;
    }
    auto ok = trailers->read(1, [&ctx, sink_ptr, trailers, finish](CopyResult r, HostElements got) {
      trailers->drop();
      if (r != CopyResult::Completed || got.values.empty()) {
        finish(std::nullopt);
        return;
      }
      TrailersResult result = TrailersResult::ok(std::nullopt);
      wit::from_val(got.values.front(), result);
      if (!result.is_ok()) {
        finish("the response's trailers future answered with an error-code (case " +
               std::to_string(result.error().index()) + ")");
        return;
      }
      if (const auto& fields = result.value()) {
        auto f = ctx.fields.get(fields->rep);
        ctx.fields.remove(fields->rep);
        if (f) sink_ptr->set_trailers(*f);
      }
      finish(std::nullopt);
    });
    if (!ok.ok()) {
      trailers->drop();
      finish(std::nullopt);
    }
  };
  if (!r->body.contents) {
    after_body(std::nullopt);
    return;
  }
  auto body = component::HostReadEnd::take(*r->body.contents);
  if (!body.ok()) {
    after_body("the response body: " + body.error().message);
    return;
  }
  pump_to_output(std::move(*body), std::make_shared<SinkOutput>(sink_ptr),
                 [after_body](std::optional<p2::StreamFailure> failure) {
                   after_body(failure ? std::optional<std::string>("writing the response body: " + failure->message)
                                      : std::nullopt);
                 });
}

Result<void> define_http(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  auto& t = keep.keep(std::make_shared<TypesHost>(ctx, linker.reactor(), resources));
  STRATUS_TRY(define_versions(linker, types::kInterface, types::make_host_instance(t, resources)));
  return define_client(linker, ctx, resources, keep);
}

}  // namespace stratus::wasi::p3

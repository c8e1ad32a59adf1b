// The wasi:http proxy the fetch tests run (world: proxy.wit), in C++ on the
// generated guest bindings. For each request it fetches
// http://<X-Upstream><path> with wasi:http/outgoing-handler and answers with
// the upstream's status, content-type and x-upstream-header, its body
// streamed through, and `x-fetched-by: stratus`; a POST or PUT forwards the
// request body, streamed after the request was sent. An error-code answers
// 502 with the case's name. Headers that change what it does:
//   X-Scheme: https              fetch https://... instead
//   X-Connect-Timeout-Ms: N      request-options connect-timeout
//   X-First-Byte-Timeout-Ms: N   request-options first-byte-timeout
//   X-Between-Bytes-Timeout-Ms: N  request-options between-bytes-timeout
//   X-Fetch-Mode: drop-future    send, drop the future at once, 200 "dropped the future\n"
//                 drop-body      read one piece of the body, drop it, 200 "dropped the body after N bytes\n"
//                 trailers       read the whole body, 200 "N bytes\n" then "name: value\n" per trailer
//                 partial-trailers  read one piece of the body, drop its stream, then
//                                wait for the trailers (502 with the error-code they give)
//                 body-first     write and finish the request body before sending the request
//                 wrong-length   send a body of 5 bytes under content-length: 10
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy_bindings.h"

namespace {

namespace http = ::wasi::http::types;
namespace streams = ::wasi::io::streams;

std::span<const uint8_t> bytes_of(std::string_view s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// The WIT's names of error-code's cases, in order.
const char* error_name(const http::ErrorCode& e) {
  static const char* kNames[] = {"DNS-timeout",
                                 "DNS-error",
                                 "destination-not-found",
                                 "destination-unavailable",
                                 "destination-IP-prohibited",
                                 "destination-IP-unroutable",
                                 "connection-refused",
                                 "connection-terminated",
                                 "connection-timeout",
                                 "connection-read-timeout",
                                 "connection-write-timeout",
                                 "connection-limit-reached",
                                 "TLS-protocol-error",
                                 "TLS-certificate-error",
                                 "TLS-alert-received",
                                 "HTTP-request-denied",
                                 "HTTP-request-length-required",
                                 "HTTP-request-body-size",
                                 "HTTP-request-method-invalid",
                                 "HTTP-request-URI-invalid",
                                 "HTTP-request-URI-too-long",
                                 "HTTP-request-header-section-size",
                                 "HTTP-request-header-size",
                                 "HTTP-request-trailer-section-size",
                                 "HTTP-request-trailer-size",
                                 "HTTP-response-incomplete",
                                 "HTTP-response-header-section-size",
                                 "HTTP-response-header-size",
                                 "HTTP-response-body-size",
                                 "HTTP-response-trailer-section-size",
                                 "HTTP-response-trailer-size",
                                 "HTTP-response-transfer-coding",
                                 "HTTP-response-content-coding",
                                 "HTTP-response-timeout",
                                 "HTTP-upgrade-failed",
                                 "HTTP-protocol-error",
                                 "loop-detected",
                                 "configuration-error",
                                 "internal-error"};
  static_assert(std::size(kNames) == std::variant_size_v<http::ErrorCode>);
  return kNames[e.index()];
}

std::string header(const http::Fields& fields, std::string_view name) {
  auto values = fields.get(name);
  if (values.empty()) return {};
  return std::string(values[0].begin(), values[0].end());
}

// Sends `status` with `body`, in pieces blocking-write-and-flush accepts.
void respond(http::ResponseOutparam out, uint16_t status, std::string_view body) {
  http::Fields headers;
  (void)headers.append("content-type", bytes_of("text/plain"));
  http::OutgoingResponse response(std::move(headers));
  (void)response.set_status_code(status);
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!outgoing) return;
  {
    auto stream = outgoing->write();
    if (!stream) return;
    for (size_t at = 0; at < body.size(); at += 4096)
      if (!stream->blocking_write_and_flush(bytes_of(body.substr(at, 4096)))) return;
  }
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

// Copies `from` to `to` until `from` ends; false when a write failed or the
// read failed with an error (not the end).
bool pump(const streams::InputStream& from, const streams::OutputStream& to) {
  for (;;) {
    auto chunk = from.blocking_read(4096);
    if (!chunk) return std::holds_alternative<streams::StreamErrorClosed>(chunk.error());
    if (!chunk->empty() && !to.blocking_write_and_flush(*chunk)) return false;
  }
}

// The response, once the future has it; or the error-code's name.
std::expected<http::IncomingResponse, std::string> wait_for(const http::FutureIncomingResponse& future) {
  future.subscribe().block();
  auto got = future.get();
  if (!got || !*got) return std::unexpected(std::string("the future had no response"));
  auto result = std::move(**got);
  if (!result) return std::unexpected(std::string(error_name(result.error())));
  return std::move(*result);
}

// Request-options from the X-*-Timeout-Ms headers, if any.
std::optional<http::RequestOptions> options_from(const http::Fields& headers) {
  std::optional<http::RequestOptions> options;
  auto ns = [&](const char* name) -> std::optional<uint64_t> {
    auto ms = header(headers, name);
    if (ms.empty()) return std::nullopt;
    if (!options) options.emplace();
    return std::stoull(ms) * 1'000'000;
  };
  if (auto d = ns("x-connect-timeout-ms")) (void)options->set_connect_timeout(d);
  if (auto d = ns("x-first-byte-timeout-ms")) (void)options->set_first_byte_timeout(d);
  if (auto d = ns("x-between-bytes-timeout-ms")) (void)options->set_between_bytes_timeout(d);
  return options;
}

void forward(http::IncomingRequest& request, http::ResponseOutparam out, const std::string& upstream,
             const std::string& mode) {
  auto request_headers = request.headers();
  std::string path = request.path_with_query().value_or("/");
  http::Fields headers;
  if (auto type = header(request_headers, "content-type"); !type.empty())
    (void)headers.append("content-type", bytes_of(type));
  if (mode == "wrong-length") (void)headers.append("content-length", bytes_of("10"));
  http::OutgoingRequest outgoing(std::move(headers));
  auto method = request.method();
  bool with_body = std::holds_alternative<http::MethodPost>(method) || std::holds_alternative<http::MethodPut>(method);
  (void)outgoing.set_method(method);
  if (header(request_headers, "x-scheme") == "https")
    (void)outgoing.set_scheme(http::Scheme{http::SchemeHttps{}});
  else
    (void)outgoing.set_scheme(http::Scheme{http::SchemeHttp{}});
  (void)outgoing.set_authority(upstream);
  (void)outgoing.set_path_with_query(path);
  std::optional<http::OutgoingBody> body;
  if (with_body || mode == "wrong-length") {
    auto b = outgoing.body();
    if (b) body = std::move(*b);
  }
  // Writes and finishes the request body: an error message, or empty.
  auto send_body = [&]() -> std::string {
    if (!body) return {};
    {
      auto sink = body->write();
      if (!sink) return "no request body stream\n";
      if (mode == "wrong-length") {
        if (!sink->blocking_write_and_flush(bytes_of("hello"))) return "writing the request body failed\n";
      } else if (auto incoming = request.consume()) {
        auto in = incoming->stream();
        if (in && !pump(*in, *sink)) return "forwarding the request body failed\n";
      }
    }
    auto finished = http::OutgoingBody::finish(std::move(*body), std::nullopt);
    body.reset();
    if (!finished) return std::string(error_name(finished.error())) + "\n";
    return {};
  };
  if (mode == "body-first") {
    if (auto failed = send_body(); !failed.empty()) return respond(std::move(out), 502, failed);
  }
  auto future = ::wasi::http::outgoing_handler::handle(std::move(outgoing), options_from(request_headers));
  if (!future) return respond(std::move(out), 502, std::string(error_name(future.error())) + "\n");
  if (mode == "drop-future") {
    { auto dropped = std::move(*future); }
    return respond(std::move(out), 200, "dropped the future\n");
  }
  // The request is on its way: its body follows as the client sends it.
  if (auto failed = send_body(); !failed.empty()) return respond(std::move(out), 502, failed);

  auto response = wait_for(*future);
  if (!response) return respond(std::move(out), 502, response.error() + "\n");
  auto incoming = response->consume();
  if (!incoming) return respond(std::move(out), 500, "the response had no body\n");

  if (mode == "drop-body") {
    size_t got = 0;
    {
      auto in = incoming->stream();
      if (in) {
        auto chunk = in->blocking_read(4096);
        if (chunk) got = chunk->size();
      }
    }  // the stream first, then its body and the response: all dropped mid-body
    { auto dropped_body = std::move(*incoming); }
    { auto dropped_response = std::move(*response); }
    return respond(std::move(out), 200, "dropped the body after " + std::to_string(got) + " bytes\n");
  }
  if (mode == "trailers" || mode == "partial-trailers") {
    size_t total = 0;
    {
      auto in = incoming->stream();
      for (;;) {
        auto chunk = in->blocking_read(4096);
        if (!chunk) break;
        total += chunk->size();
        if (mode == "partial-trailers") break;
      }
    }
    auto trailers = http::IncomingBody::finish(std::move(*incoming));
    trailers.subscribe().block();
    auto got = trailers.get();
    std::string text = std::to_string(total) + " bytes\n";
    if (!got || !*got) return respond(std::move(out), 500, "the trailers were not there\n");
    if (!**got) return respond(std::move(out), 502, std::string(error_name((**got).error())) + "\n");
    if (auto& fields = **got; fields->has_value()) {
      for (auto& [name, value] : (**fields).entries())
        text += name + ": " + std::string(value.begin(), value.end()) + "\n";
    }
    return respond(std::move(out), 200, text);
  }

  http::Fields answer;
  auto upstream_headers = response->headers();
  for (const char* name : {"content-type", "x-upstream-header"})
    if (auto value = header(upstream_headers, name); !value.empty()) (void)answer.append(name, bytes_of(value));
  (void)answer.append("x-fetched-by", bytes_of("stratus"));
  http::OutgoingResponse reply(std::move(answer));
  (void)reply.set_status_code(response->status());
  auto reply_body = reply.body();
  http::ResponseOutparam::set(std::move(out), std::move(reply));
  if (!reply_body) return;
  {
    auto in = incoming->stream();
    auto sink = reply_body->write();
    if (!in || !sink) return;
    // A body cut short upstream is cut short here too: the reply body is
    // dropped unfinished, and the server ends the connection.
    if (!pump(*in, *sink)) return;
  }
  (void)http::OutgoingBody::finish(std::move(*reply_body), std::nullopt);
}

}  // namespace

namespace exports::wasi::http::incoming_handler {

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  auto headers = request.headers();
  std::string upstream = header(headers, "x-upstream");
  if (upstream.empty()) return respond(std::move(response_out), 400, "no X-Upstream header\n");
  forward(request, std::move(response_out), upstream, header(headers, "x-fetch-mode"));
}

}  // namespace exports::wasi::http::incoming_handler

// The wasi:http proxy the serve tests (and bench/http) run, in C++ on the
// generated guest bindings (`stratus bindgen --guest cpp`):
//   GET  /hello?name=N  200 "Hello, N!\n" (text/plain)
//   POST /echo          200, the request body streamed back as it is read
//   GET  /count         how many requests this instance has seen ("1\n")
//   GET  /sleep         waits 300 ms on a monotonic-clock pollable, "slept\n"
//   GET  /trap          traps (__builtin_trap)
//   GET  /trap-late     sets a 200 response and writes to its body without
//                       flushing, then traps
//   GET  /drip          "first\n" written and flushed, a 600 ms wait, then
//                       "second\n"
//   anything else       404
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy_bindings.h"

namespace {

namespace http = ::wasi::http::types;
namespace streams = ::wasi::io::streams;

int g_requests = 0;

http::Fields text_headers() {
  http::Fields headers;
  std::string type = "text/plain";
  (void)headers.append("content-type",
                       std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(type.data()), type.size()));
  return headers;
}

// Sends `status` with `body` (written in pieces of at most 4096 bytes, as
// blocking-write-and-flush allows).
void respond(http::ResponseOutparam out, uint16_t status, std::string_view body) {
  http::OutgoingResponse response(text_headers());
  (void)response.set_status_code(status);
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!outgoing) return;
  {
    auto stream = outgoing->write();
    if (!stream) return;
    for (size_t at = 0; at < body.size(); at += 4096) {
      auto piece = body.substr(at, 4096);
      if (!stream->blocking_write_and_flush(
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(piece.data()), piece.size())))
        return;
    }
  }  // the stream is dropped before the body is finished, as the WIT requires
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

void echo(http::IncomingRequest& request, http::ResponseOutparam out) {
  auto incoming = request.consume();
  http::OutgoingResponse response(text_headers());
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!incoming || !outgoing) return;
  {
    auto in = incoming->stream();
    auto sink = outgoing->write();
    if (!in || !sink) return;
    for (;;) {
      auto chunk = in->blocking_read(4096);
      if (!chunk) break;  // closed: the whole body was read
      if (!sink->blocking_write_and_flush(*chunk)) return;
    }
  }
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

// Sets a 200 response, writes to its body without flushing, then traps.
[[noreturn]] void trap_late(http::ResponseOutparam out) {
  http::OutgoingResponse response(text_headers());
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (outgoing) {
    if (auto stream = outgoing->write()) {
      std::string_view half = "half an ans";
      (void)stream->write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(half.data()), half.size()));
    }
  }
  __builtin_trap();
}

// "first\n" written and flushed, a 600 ms wait, then "second\n".
void drip(http::ResponseOutparam out) {
  http::OutgoingResponse response(text_headers());
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!outgoing) return;
  {
    auto stream = outgoing->write();
    if (!stream) return;
    for (std::string_view piece : {std::string_view("first\n"), std::string_view("second\n")}) {
      if (piece == "second\n") ::wasi::clocks::monotonic_clock::subscribe_duration(600'000'000).block();
      if (!stream->blocking_write_and_flush(
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(piece.data()), piece.size())))
        return;
    }
  }
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

std::string query_value(std::string_view path, std::string_view key) {
  auto q = path.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = path.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, key.size()) == key && pair.size() > key.size() && pair[key.size()] == '=')
      return std::string(pair.substr(key.size() + 1));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return {};
}

}  // namespace

namespace exports::wasi::http::incoming_handler {

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  ++g_requests;
  std::string path = request.path_with_query().value_or("/");
  std::string_view route = std::string_view(path).substr(0, path.find('?'));
  if (route == "/hello") {
    std::string name = query_value(path, "name");
    respond(std::move(response_out), 200, "Hello, " + (name.empty() ? std::string("world") : name) + "!\n");
  } else if (route == "/echo") {
    echo(request, std::move(response_out));
  } else if (route == "/count") {
    respond(std::move(response_out), 200, std::to_string(g_requests) + "\n");
  } else if (route == "/sleep") {
    ::wasi::clocks::monotonic_clock::subscribe_duration(300'000'000).block();
    respond(std::move(response_out), 200, "slept\n");
  } else if (route == "/trap") {
    __builtin_trap();
  } else if (route == "/trap-late") {
    trap_late(std::move(response_out));
  } else if (route == "/drip") {
    drip(std::move(response_out));
  } else {
    respond(std::move(response_out), 404, "not found: " + path + "\n");
  }
}

}  // namespace exports::wasi::http::incoming_handler

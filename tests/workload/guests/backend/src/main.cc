// The end of an HTTP chain: echoes the request's body back as the response's,
// chunk by chunk as it comes. `?trap_after=N` traps once N bytes went back,
// mid-stream, for the tests of a chain whose backend fails.
#include <charconv>
#include <string>

#include "bindings.h"

namespace types = ::wasi::http::types;
using stratus_guest::Task;

namespace {

using Trailers = std::expected<std::optional<types::Fields>, types::ErrorCode>;

std::optional<size_t> query_number(std::string_view path, std::string_view key) {
  auto at = path.find(std::string(key) + "=");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view digits = path.substr(at + key.size() + 1);
  size_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return n;
}

Task<void> echo(stratus_guest::StreamReader<uint8_t> in, stratus_guest::FutureReader<Trailers> in_trailers,
                stratus_guest::FutureWriter<std::expected<void, types::ErrorCode>> consumed,
                stratus_guest::StreamWriter<uint8_t> out, stratus_guest::FutureWriter<Trailers> out_trailers,
                std::optional<size_t> trap_after) {
  size_t sent = 0;
  while (!in.done() && !out.closed()) {
    auto chunk = co_await in.read(65536);
    if (trap_after && sent + chunk.size() > *trap_after) {
      co_await out.write(std::span<const uint8_t>(chunk.data(), *trap_after - sent));
      __builtin_trap();
    }
    sent += co_await out.write(std::span<const uint8_t>(chunk));
  }
  (void)co_await in_trailers.read();
  co_await consumed.write({});
  { auto end = std::move(out); }  // dropping the writer ends the body
  co_await out_trailers.write(Trailers(std::nullopt));
}

}  // namespace

namespace exports::wasi::http::handler {

Task<std::expected<types::Response, ErrorCode>> handle(types::Request request) {
  auto trap_after = query_number(request.get_path_with_query().value_or("/"), "trap_after");
  auto [consumed_writer, consumed_reader] = stratus_guest::make_future<std::expected<void, types::ErrorCode>>();
  auto [body, request_trailers] = types::Request::consume_body(std::move(request), std::move(consumed_reader));

  types::Fields headers;
  std::string_view type = "application/octet-stream";
  (void)headers.append("content-type", std::vector<uint8_t>(type.begin(), type.end()));
  auto [body_writer, body_reader] = stratus_guest::make_stream<uint8_t>();
  auto [trailers_writer, trailers_reader] = stratus_guest::make_future<Trailers>();
  auto [response, sent] = types::Response::new_(std::move(headers), std::move(body_reader), std::move(trailers_reader));
  stratus_guest::spawn(echo(std::move(body), std::move(request_trailers), std::move(consumed_writer),
                            std::move(body_writer), std::move(trailers_writer), trap_after));
  co_return std::move(response);
}

}  // namespace exports::wasi::http::handler

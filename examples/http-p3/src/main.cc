// A wasi:http 0.3 handler: async functions are C++20 coroutines
// (stratus_guest::Task), streams and futures are RAII ends with co_await-able
// reads and writes (stratus_guest_async.h, next to the bindings).
//
// `handle` reads the request's body (if any), returns the response headers
// at once, and spawns the coroutine that streams the body: the response is
// on its way while the body is still being written. `?n=N` asks for N
// chunks, `?delay_ms=D` for D ms between them.
#include <charconv>
#include <cstdio>
#include <string>

#include "bindings.h"

namespace types = ::wasi::http::types;
using stratus_guest::Task;

namespace {

using Trailers = std::expected<std::optional<types::Fields>, types::ErrorCode>;

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// `KEY=N` in the path's query, within [0, max] (`fallback` when absent).
int query_number(std::string_view path, std::string_view key, int fallback, int max) {
  int n = fallback;
  if (auto at = path.find(std::string(key) + "="); at != std::string_view::npos) {
    std::string_view digits = path.substr(at + key.size() + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), n);
  }
  return n < 0 ? 0 : n > max ? max : n;
}

// The body: a greeting, then `n` chunks (`delay_ms` apart: an async import,
// wasi:clocks' wait-for), then the trailers, which end the response. Stops
// early if the client goes. Then reads whether the response went out whole
// (the future response.new gave), and says so on stderr if not.
Task<void> send_body(stratus_guest::StreamWriter<uint8_t> body, stratus_guest::FutureWriter<Trailers> trailers,
                     stratus_guest::FutureReader<std::expected<void, types::ErrorCode>> sent, std::string path,
                     size_t request_bytes, int n, int delay_ms) {
  co_await body.write("Hello from a WASI 0.3 component in C++!\n");
  if (request_bytes != 0) co_await body.write("your request's body had " + std::to_string(request_bytes) + " bytes\n");
  for (int i = 1; i <= n && !body.closed(); ++i) {
    if (delay_ms != 0) co_await ::wasi::clocks::monotonic_clock::wait_for(uint64_t(delay_ms) * 1000000);
    co_await body.write("chunk " + std::to_string(i) + " of " + std::to_string(n) + " for " + path + "\n");
  }
  { auto end = std::move(body); }  // dropping the writer ends the body
  types::Fields fields;
  (void)fields.append("x-chunks", bytes(std::to_string(n)));
  co_await trailers.write(Trailers(std::move(fields)));
  auto outcome = co_await sent.read();
  if (!outcome || !outcome->has_value())
    std::fprintf(stderr, "http-p3: the response to %s did not go out whole\n", path.c_str());
}

}  // namespace

namespace exports::wasi::http::handler {

Task<std::expected<types::Response, ErrorCode>> handle(types::Request request) {
  std::string path = request.get_path_with_query().value_or("/");
  int n = query_number(path, "n", 3, 10000);
  int delay_ms = query_number(path, "delay_ms", 0, 1000);

  // The request's body, as a stream (its trailers and the result future we
  // hand over are dropped: nothing here needs them).
  auto [done_writer, done_reader] = stratus_guest::make_future<std::expected<void, types::ErrorCode>>();
  auto [body, request_trailers] = types::Request::consume_body(std::move(request), std::move(done_reader));
  size_t request_bytes = 0;
  while (!body.done()) request_bytes += (co_await body.read(65536)).size();
  co_await done_writer.write({});

  types::Fields headers;
  (void)headers.append("content-type", bytes("text/plain"));
  auto [body_writer, body_reader] = stratus_guest::make_stream<uint8_t>();
  auto [trailers_writer, trailers_reader] = stratus_guest::make_future<Trailers>();
  auto [response, sent] = types::Response::new_(std::move(headers), std::move(body_reader), std::move(trailers_reader));
  stratus_guest::spawn(send_body(std::move(body_writer), std::move(trailers_writer), std::move(sent), std::move(path),
                                 request_bytes, n, delay_ms));
  co_return std::move(response);
}

}  // namespace exports::wasi::http::handler

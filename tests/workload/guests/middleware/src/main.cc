// An HTTP middleware: passes the request on to the next handler of its chain
// (its import of wasi:http/handler), and answers with that handler's
// response under a header of its own, `x-middleware: 1`; the body and
// trailers stream through as the next handler writes them.
#include "bindings.h"

namespace types = ::wasi::http::types;
using stratus_guest::Task;

namespace {

using Outcome = std::expected<void, types::ErrorCode>;

// Tells the next handler whether its response went out whole, once ours did.
Task<void> relay(stratus_guest::FutureReader<Outcome> ours, stratus_guest::FutureWriter<Outcome> theirs) {
  auto outcome = co_await ours.read();
  co_await theirs.write(outcome ? *outcome : Outcome{});
}

}  // namespace

namespace exports::wasi::http::handler {

Task<std::expected<types::Response, ErrorCode>> handle(types::Request request) {
  auto answered = co_await ::wasi::http::handler::handle(std::move(request));
  if (!answered) co_return std::unexpected(std::move(answered.error()));
  types::Response& next = *answered;
  auto status = next.get_status_code();
  types::Fields headers = next.get_headers().clone();
  (void)headers.append("x-middleware", std::vector<uint8_t>{'1'});
  auto [done_writer, done_reader] = stratus_guest::make_future<Outcome>();
  auto [body, trailers] = types::Response::consume_body(std::move(next), std::move(done_reader));
  auto [response, sent] = types::Response::new_(std::move(headers), std::move(body), std::move(trailers));
  (void)response.set_status_code(status);
  stratus_guest::spawn(relay(std::move(sent), std::move(done_writer)));
  co_return std::move(response);
}

}  // namespace exports::wasi::http::handler

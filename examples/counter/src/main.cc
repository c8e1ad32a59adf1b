// The counter: an HTTP component of the example workload (examples/workload.yaml).
//   GET /        counts the visit in wasi:keyvalue and answers
//                "Hello, NAME! This page has had N visits." (the greeting comes
//                from the greeter component, NAME from wasi:config `name`)
//   GET /count   the count, without counting
//   anything else 404
// Each visit is logged through wasi:logging.
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "bindings.h"

namespace {

namespace http = ::wasi::http::types;
namespace kv = ::wasi::keyvalue;
namespace logging = ::wasi::logging::logging;

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void respond(http::ResponseOutparam out, uint16_t status, std::string_view body) {
  http::Fields headers;
  (void)headers.append("content-type", bytes("text/plain; charset=utf-8"));
  (void)headers.append("content-length", bytes(std::to_string(body.size())));
  http::OutgoingResponse response(std::move(headers));
  (void)response.set_status_code(status);
  auto outgoing = response.body();
  http::ResponseOutparam::set(std::move(out), std::move(response));
  if (!outgoing) return;
  {
    auto stream = outgoing->write();
    if (!stream) return;
    for (size_t at = 0; at < body.size(); at += 4096) {
      if (!stream->blocking_write_and_flush(bytes(body.substr(at, 4096)))) return;
    }
  }
  (void)http::OutgoingBody::finish(std::move(*outgoing), std::nullopt);
}

std::string describe(const kv::store::Error& error) {
  if (std::holds_alternative<kv::store::ErrorNoSuchStore>(error)) return "no such store";
  if (std::holds_alternative<kv::store::ErrorAccessDenied>(error)) return "access denied";
  return std::get<kv::store::ErrorOther>(error).value;
}

}  // namespace

namespace exports::wasi::http::incoming_handler {

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  std::string path = request.path_with_query().value_or("/");
  if (path != "/" && path != "/count") {
    respond(std::move(response_out), 404, "Nothing at " + path + "\n");
    return;
  }
  auto bucket = kv::store::open("counter");
  if (!bucket) {
    respond(std::move(response_out), 500, "cannot open the bucket: " + describe(bucket.error()) + "\n");
    return;
  }
  if (path == "/count") {
    auto value = bucket->get("visits");
    if (!value) {
      respond(std::move(response_out), 500, "cannot read the count: " + describe(value.error()) + "\n");
      return;
    }
    std::string count = *value ? std::string((*value)->begin(), (*value)->end()) : "0";
    respond(std::move(response_out), 200, count + "\n");
    return;
  }
  auto visits = kv::atomics::increment(*bucket, "visits", 1);
  if (!visits) {
    respond(std::move(response_out), 500, "cannot count the visit: " + describe(visits.error()) + "\n");
    return;
  }
  auto name = ::wasi::config::store::get("name");
  std::string who = name && *name ? **name : std::string("visitor");
  std::string greeting = ::example::greeter::greet::greet(who);
  logging::log(logging::Level::kInfo, "counter", "visit " + std::to_string(*visits));
  respond(std::move(response_out), 200,
          greeting + " This page has had " + std::to_string(*visits) + " visit" + (*visits == 1 ? "" : "s") + ".\n");
}

}  // namespace exports::wasi::http::incoming_handler

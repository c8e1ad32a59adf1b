// Handles the messages of its workload's subscriptions:
//   a message with a reply subject  the reply "echo: BODY"
//   a subject "fwd.REST"            republished to "out.REST", body as is
//   body "ask:SUBJECT"              requests SUBJECT and replies with its answer
//   body "fail"                     the handler returns an error
//   body "trap"                     the guest traps
//   body "grow:N"                   takes N MiB of memory, then replies "grew N MiB"
#include <cstdlib>
#include <expected>
#include <string>
#include <string_view>

#include "bindings.h"

namespace {

namespace consumer = ::wasmcloud::messaging::consumer;

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

}  // namespace

namespace exports::wasmcloud::messaging::handler {

std::expected<void, std::string> handle_message(const BrokerMessage& msg) {
  std::string body(msg.body.begin(), msg.body.end());
  if (body == "fail") return std::unexpected(std::string("asked to fail"));
  if (body == "trap") __builtin_trap();
  if (body.rfind("grow:", 0) == 0) {
    size_t mib = static_cast<size_t>(std::atoi(body.c_str() + 5));
    std::vector<char> taken(mib << 20, 1);  // fails (aborts) past the instance's memory limit
    body = "grew " + std::to_string(mib) + " MiB" + (taken.empty() ? "" : "");
  }
  if (msg.subject.rfind("fwd.", 0) == 0) {
    auto sent = consumer::publish({"out." + msg.subject.substr(4), msg.body, std::nullopt});
    if (!sent) return std::unexpected("publish: " + sent.error());
  }
  if (msg.reply_to) {
    std::string answer = body.rfind("grew ", 0) == 0 ? body : "echo: " + body;
    if (body.rfind("ask:", 0) == 0) {
      auto reply = consumer::request(body.substr(4), bytes("from echo"), 2000);
      answer = reply ? "asked: " + std::string(reply->body.begin(), reply->body.end()) : "ask failed: " + reply.error();
    }
    auto sent = consumer::publish({*msg.reply_to, bytes(answer), std::nullopt});
    if (!sent) return std::unexpected("reply: " + sent.error());
  }
  return {};
}

}  // namespace exports::wasmcloud::messaging::handler

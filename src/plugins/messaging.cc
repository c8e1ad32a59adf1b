// wasmcloud:messaging/consumer over a MessageBroker. A guest's request waits
// at most kMaxRequestTimeout, whatever it asks for; an async caller waits
// without holding its store's thread (backend_calls.h).
#include "plugins/hosts.h"
#include "wasi/p2/streams.h"

namespace stratus::plugins {
namespace {

namespace consumer = ::wasmcloud::messaging::consumer;
using BrokerMessage = ::wasmcloud::messaging::types::BrokerMessage;
using wit::Unit;
using wit::WitResult;

constexpr std::chrono::milliseconds kMaxRequestTimeout{60'000};

class ConsumerHost final : public consumer::Host {
 public:
  ConsumerHost(std::shared_ptr<MessageBroker> broker, BackendCalls& calls)
      : broker_(std::move(broker)), calls_(calls) {}

  void request(const std::string& subject, const std::vector<uint8_t>& body, const uint32_t& timeout_ms,
               wit::Reply<WitResult<BrokerMessage, std::string>> reply) override {
    auto timeout = std::min(std::chrono::milliseconds(timeout_ms), kMaxRequestTimeout);
    wasi::p2::before_blocking();  // what the guest flushed goes out before it waits for the reply
    auto requesting = span("request", subject);
    Message message{subject, body, std::nullopt};
    carry_context(requesting, message);
    // On the lane of calls that wait on others: the reply may come from a
    // handler of this host that needs the I/O lane.
    calls_.run<WitResult<BrokerMessage, std::string>>(
        "wasmcloud:messaging", BackendPool::Lane::kWait, reply,
        [broker = broker_, message = std::move(message), timeout] {
          auto got = broker->request(message, timeout);
          if (!got) return WitResult<BrokerMessage, std::string>::err(got.error().message);
          return WitResult<BrokerMessage, std::string>::ok(
              BrokerMessage{std::move(got->subject), std::move(got->body), std::move(got->reply_to)});
        },
        std::move(requesting));
  }

  void publish(const BrokerMessage& msg, wit::Reply<WitResult<Unit, std::string>> reply) override {
    auto publishing = span("publish", msg.subject);
    Message message{msg.subject, msg.body, msg.reply_to};
    carry_context(publishing, message);
    calls_.run<WitResult<Unit, std::string>>(
        "wasmcloud:messaging", BackendPool::Lane::kIo, reply,
        [broker = broker_, message = std::move(message)] {
          auto sent = broker->publish(message);
          if (!sent) return WitResult<Unit, std::string>::err(sent.error().message);
          return WitResult<Unit, std::string>::ok(Unit{});
        },
        std::move(publishing));
  }

 private:
  // The message continues the trace of its publish or request span (a
  // handler's invocation is its child).
  static void carry_context(const observe::Span& span, Message& message) {
    if (!span.active()) return;
    message.traceparent = observe::format_traceparent(span.scope()->context);
    message.tracestate = span.scope()->context.trace_state;
  }

  // OpenTelemetry's messaging conventions: "OPERATION SUBJECT", a client
  // span (messaging.operation.type `send`; a request's reply is part of it).
  observe::Span span(const char* operation, const std::string& subject) const {
    return client_span(operation, subject, [&](observe::Attributes& a) {
      a.emplace_back("messaging.system", std::string(broker_->system_name()));
      a.emplace_back("messaging.destination.name", subject);
      a.emplace_back("messaging.operation.name", std::string(operation));
      a.emplace_back("messaging.operation.type", std::string("send"));
    });
  }

  std::shared_ptr<MessageBroker> broker_;
  BackendCalls& calls_;
};

// wasmcloud:messaging/types holds only the message record.
class TypesHost final : public ::wasmcloud::messaging::types::Host {};

}  // namespace

Result<void> define_messaging(component::Linker& linker, const std::shared_ptr<MessageBroker>& broker,
                              PluginState& state) {
  auto types = std::make_shared<TypesHost>();
  state.objects.push_back(types);
  STRATUS_TRY(::wasmcloud::messaging::types::define(linker, *types, state.resources));
  auto host = std::make_shared<ConsumerHost>(broker, state.calls);
  state.objects.push_back(host);
  return consumer::define(linker, *host, state.resources);
}

}  // namespace stratus::plugins

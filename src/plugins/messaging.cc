// wasmcloud:messaging/consumer over a MessageBroker. A guest's request waits
// at most kMaxRequestTimeout, whatever it asks for.
#include "plugins/hosts.h"
#include "wasi/p2/streams.h"

namespace stratus::plugins {
namespace {

namespace consumer = ::wasmcloud::messaging::consumer;
using BrokerMessage = ::wasmcloud::messaging::types::BrokerMessage;
using wit::HostResult;
using wit::Unit;
using wit::WitResult;

constexpr std::chrono::milliseconds kMaxRequestTimeout{60'000};

class ConsumerHost final : public consumer::Host {
 public:
  explicit ConsumerHost(std::shared_ptr<MessageBroker> broker) : broker_(std::move(broker)) {}

  HostResult<WitResult<BrokerMessage, std::string>> request(const std::string& subject,
                                                            const std::vector<uint8_t>& body,
                                                            const uint32_t& timeout_ms) override {
    auto timeout = std::min(std::chrono::milliseconds(timeout_ms), kMaxRequestTimeout);
    wasi::p2::before_blocking();  // what the guest flushed goes out before it waits for the reply
    auto reply = broker_->request(subject, body, timeout);
    if (!reply) return WitResult<BrokerMessage, std::string>::err(reply.error().message);
    return WitResult<BrokerMessage, std::string>::ok(
        BrokerMessage{std::move(reply->subject), std::move(reply->body), std::move(reply->reply_to)});
  }

  HostResult<WitResult<Unit, std::string>> publish(const BrokerMessage& msg) override {
    auto sent = broker_->publish(Message{msg.subject, msg.body, msg.reply_to});
    if (!sent) return WitResult<Unit, std::string>::err(sent.error().message);
    return WitResult<Unit, std::string>::ok(Unit{});
  }

 private:
  std::shared_ptr<MessageBroker> broker_;
};

// wasmcloud:messaging/types holds only the message record.
class TypesHost final : public ::wasmcloud::messaging::types::Host {};

}  // namespace

Result<void> define_messaging(component::Linker& linker, const std::shared_ptr<MessageBroker>& broker,
                              PluginState& state) {
  auto types = std::make_shared<TypesHost>();
  state.objects.push_back(types);
  STRATUS_TRY(::wasmcloud::messaging::types::define(linker, *types, state.resources));
  auto host = std::make_shared<ConsumerHost>(broker);
  state.objects.push_back(host);
  return consumer::define(linker, *host, state.resources);
}

}  // namespace stratus::plugins

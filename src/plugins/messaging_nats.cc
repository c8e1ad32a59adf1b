// wasmcloud:messaging on NATS (libnats): one connection per broker, which
// the library reconnects when it drops. The library calls a subscription's
// callback on its thread for it, one message at a time; the callback hands
// each message to a Dispatcher, so that a handler requesting a subject its
// own subscription serves is not waiting on itself.
#include <nats/nats.h>

#include <mutex>

#include "plugins/dispatcher.h"
#include "plugins/message_broker.h"

namespace stratus::plugins {
namespace {

std::string why(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) text += ": " + std::string(last);
  return text;
}

Message from_nats(natsMsg* m) {
  Message out;
  out.subject = natsMsg_GetSubject(m);
  const char* data = natsMsg_GetData(m);
  int len = natsMsg_GetDataLength(m);
  if (data != nullptr && len > 0) out.body.assign(data, data + len);
  if (const char* reply = natsMsg_GetReply(m); reply != nullptr && *reply != '\0') out.reply_to = reply;
  const char* header = nullptr;
  if (natsMsgHeader_Get(m, "traceparent", &header) == NATS_OK && header != nullptr) out.traceparent = header;
  if (natsMsgHeader_Get(m, "tracestate", &header) == NATS_OK && header != nullptr) out.tracestate = header;
  return out;
}

class NatsSubscription final : public Subscription {
 public:
  NatsSubscription(std::function<void(Message)> deliver, Dispatcher& dispatcher)
      : deliver_(std::move(deliver)), dispatcher_(dispatcher) {}
  ~NatsSubscription() override {
    if (sub_ != nullptr) {
      // Drain: no new messages, and the callback under way (if any) returns
      // before the closure it uses goes.
      if (natsSubscription_Drain(sub_) == NATS_OK) natsSubscription_WaitForDrainCompletion(sub_, 5000);
      natsSubscription_Unsubscribe(sub_);
      natsSubscription_Destroy(sub_);
    }
    in_flight_.wait_idle();
  }

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<NatsSubscription*>(closure);
    auto m = std::make_shared<Message>(from_nats(msg));
    natsMsg_Destroy(msg);
    self->in_flight_.begin();
    self->dispatcher_.post([self, m] {
      self->deliver_(std::move(*m));
      self->in_flight_.end();
    });
  }

  natsSubscription* sub_ = nullptr;

 private:
  std::function<void(Message)> deliver_;
  Dispatcher& dispatcher_;
  InFlight in_flight_;
};

class NatsBroker final : public MessageBroker {
 public:
  NatsBroker(natsConnection* conn, std::string url) : conn_(conn), url_(std::move(url)) {}
  const char* system_name() const override { return "nats"; }
  ~NatsBroker() override {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }

  Result<void> publish(const Message& m) override {
    if (!valid_subject(m.subject)) return make_error("publish: `" + m.subject.substr(0, 200) + "` is not a subject");
    if (m.reply_to && !valid_subject(*m.reply_to))
      return make_error("publish: the reply subject `" + m.reply_to->substr(0, 200) + "` is not a subject");
    if (m.body.size() > kMaxMessageBody) return make_error("publish: the body is past the limit");
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, m.subject.c_str(), m.reply_to ? m.reply_to->c_str() : nullptr,
                                  reinterpret_cast<const char*>(m.body.data()), static_cast<int>(m.body.size()));
    if (s == NATS_OK && !m.traceparent.empty()) s = natsMsgHeader_Set(msg, "traceparent", m.traceparent.c_str());
    if (s == NATS_OK && !m.tracestate.empty()) s = natsMsgHeader_Set(msg, "tracestate", m.tracestate.c_str());
    if (s == NATS_OK) s = natsConnection_PublishMsg(conn_, msg);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) return make_error("nats " + url_ + ": publish " + m.subject + ": " + why(s));
    return {};
  }

  Result<Message> request(const Message& message, std::chrono::milliseconds timeout) override {
    const std::string& subject = message.subject;
    if (!valid_subject(subject)) return make_error("request: `" + subject.substr(0, 200) + "` is not a subject");
    if (message.body.size() > kMaxMessageBody) return make_error("request: the body is past the limit");
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(message.body.data()),
                                  static_cast<int>(message.body.size()));
    if (s == NATS_OK && !message.traceparent.empty())
      s = natsMsgHeader_Set(msg, "traceparent", message.traceparent.c_str());
    if (s == NATS_OK && !message.tracestate.empty())
      s = natsMsgHeader_Set(msg, "tracestate", message.tracestate.c_str());
    natsMsg* reply = nullptr;
    if (s == NATS_OK) s = natsConnection_RequestMsg(&reply, conn_, msg, timeout.count());
    natsMsg_Destroy(msg);
    if (s == NATS_NO_RESPONDERS) return make_error("request: no one subscribes to " + subject);
    if (s == NATS_TIMEOUT)
      return make_error("request: no reply from " + subject + " in " + std::to_string(timeout.count()) + " ms");
    if (s != NATS_OK) return make_error("nats " + url_ + ": request " + subject + ": " + why(s));
    Message m = from_nats(reply);
    natsMsg_Destroy(reply);
    return m;
  }

  Result<std::unique_ptr<Subscription>> subscribe(const std::string& pattern,
                                                  std::function<void(Message)> deliver) override {
    if (!valid_subject(pattern, true)) return make_error("subscribe: `" + pattern + "` is not a subject pattern");
    auto sub = std::make_unique<NatsSubscription>(std::move(deliver), dispatcher_);
    natsStatus s =
        natsConnection_Subscribe(&sub->sub_, conn_, pattern.c_str(), &NatsSubscription::on_message, sub.get());
    if (s != NATS_OK) return make_error("nats " + url_ + ": subscribe " + pattern + ": " + why(s));
    // The subscription is known to the server before anything is published
    // on the strength of it.
    natsConnection_Flush(conn_);
    return std::unique_ptr<Subscription>(std::move(sub));
  }

 private:
  natsConnection* conn_;
  std::string url_;
  // Outlives the subscriptions (a broker outlives its subscriptions: the
  // runtime ends them first).
  Dispatcher dispatcher_;
};

}  // namespace

Result<std::shared_ptr<MessageBroker>> open_nats_broker(const std::string& url) {
  if (url.rfind("nats://", 0) != 0) return make_error("nats url `" + url + "`: expected nats://HOST:PORT");
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  natsConnection* conn = nullptr;
  if (s == NATS_OK) s = natsConnection_Connect(&conn, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return make_error("nats " + url + ": cannot connect: " + why(s));
  return std::shared_ptr<MessageBroker>(std::make_shared<NatsBroker>(conn, url));
}

}  // namespace stratus::plugins

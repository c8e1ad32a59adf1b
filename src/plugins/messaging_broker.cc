// The in-process broker: subscriptions in a table, deliveries on a
// Dispatcher's threads, so that a handler may itself publish or request
// without waiting on its own delivery.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "plugins/dispatcher.h"
#include "plugins/message_broker.h"

namespace stratus::plugins {

namespace {

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t at = 0;
  for (;;) {
    size_t dot = s.find('.', at);
    out.push_back(s.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at));
    if (dot == std::string_view::npos) return out;
    at = dot + 1;
  }
}

constexpr size_t kMaxSubject = 1024;

class InProcessBroker final : public MessageBroker, public std::enable_shared_from_this<InProcessBroker> {
 public:
  const char* system_name() const override { return "stratus"; }
  struct Sub {
    std::string pattern;
    std::function<void(Message)> deliver;
    InFlight in_flight;
    std::atomic<bool> cancelled{false};
  };

  class SubscriptionImpl final : public Subscription {
   public:
    SubscriptionImpl(std::shared_ptr<InProcessBroker> broker, uint64_t id) : broker_(std::move(broker)), id_(id) {}
    ~SubscriptionImpl() override { broker_->unsubscribe(id_); }

   private:
    std::shared_ptr<InProcessBroker> broker_;
    uint64_t id_;
  };

  Result<void> publish(const Message& m) override {
    if (!valid_subject(m.subject)) return make_error("publish: `" + m.subject.substr(0, 200) + "` is not a subject");
    if (m.reply_to && !valid_subject(*m.reply_to))
      return make_error("publish: the reply subject `" + m.reply_to->substr(0, 200) + "` is not a subject");
    if (m.body.size() > kMaxMessageBody)
      return make_error("publish: the body is " + std::to_string(m.body.size()) + " bytes, past the limit of " +
                        std::to_string(kMaxMessageBody));
    fan_out(m);
    return {};
  }

  Result<Message> request(const Message& message, std::chrono::milliseconds timeout) override {
    const std::string& subject = message.subject;
    const std::vector<uint8_t>& body = message.body;
    if (!valid_subject(subject)) return make_error("request: `" + subject.substr(0, 200) + "` is not a subject");
    if (body.size() > kMaxMessageBody) return make_error("request: the body is past the limit");
    struct Slot {
      std::mutex mu;
      std::condition_variable cv;
      std::optional<Message> reply;
    };
    auto slot = std::make_shared<Slot>();
    std::string inbox = "_INBOX." + std::to_string(next_inbox_.fetch_add(1)) + "." + std::to_string(salt_);
    auto sub = subscribe(inbox, [slot](Message m) {
      std::lock_guard lock(slot->mu);
      if (!slot->reply) slot->reply = std::move(m);
      slot->cv.notify_all();
    });
    if (!sub) return std::move(sub).error();
    if (fan_out(Message{subject, body, inbox, message.traceparent, message.tracestate}) == 0)
      return make_error("request: no one subscribes to " + subject);
    std::unique_lock lock(slot->mu);
    if (!slot->cv.wait_for(lock, timeout, [&] { return slot->reply.has_value(); }))
      return make_error("request: no reply from " + subject + " in " + std::to_string(timeout.count()) + " ms");
    return std::move(*slot->reply);
  }

  Result<std::unique_ptr<Subscription>> subscribe(const std::string& pattern,
                                                  std::function<void(Message)> deliver) override {
    if (!valid_subject(pattern, true)) return make_error("subscribe: `" + pattern + "` is not a subject pattern");
    std::lock_guard lock(mu_);
    uint64_t id = next_id_++;
    auto sub = std::make_shared<Sub>();
    sub->pattern = pattern;
    sub->deliver = std::move(deliver);
    subs_[id] = std::move(sub);
    return std::unique_ptr<Subscription>(std::make_unique<SubscriptionImpl>(shared_from_this(), id));
  }

 private:
  // Queues a delivery to every matching subscription; how many there were.
  size_t fan_out(const Message& m) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (auto& entry : subs_) {
      // A named pointer, not a structured binding: clang-tidy 14 cannot
      // capture one.
      const std::shared_ptr<Sub>& sub = entry.second;
      if (sub->cancelled || !subject_matches(sub->pattern, m.subject)) continue;
      sub->in_flight.begin();
      dispatcher_.post([sub, m] {
        if (!sub->cancelled) sub->deliver(m);
        sub->in_flight.end();
      });
      ++n;
    }
    return n;
  }

  void unsubscribe(uint64_t id) {
    std::shared_ptr<Sub> sub;
    {
      std::lock_guard lock(mu_);
      auto it = subs_.find(id);
      if (it == subs_.end()) return;
      sub = it->second;
      subs_.erase(it);
    }
    sub->cancelled = true;
    sub->in_flight.wait_idle();
  }

  std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<Sub>> subs_;
  uint64_t next_id_ = 1;
  std::atomic<uint64_t> next_inbox_{1};
  uint64_t salt_ = std::random_device{}();
  // Last: destroyed first, its threads finishing what was queued while
  // the rest of the broker is still there.
  Dispatcher dispatcher_;
};

}  // namespace

bool valid_subject(std::string_view subject, bool pattern) {
  if (subject.empty() || subject.size() > kMaxSubject) return false;
  auto parts = tokens(subject);
  for (size_t i = 0; i < parts.size(); ++i) {
    auto t = parts[i];
    if (t.empty()) return false;
    if (t == "*" || t == ">") {
      if (!pattern || (t == ">" && i + 1 != parts.size())) return false;
      continue;
    }
    for (char c : t) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f || c == '*' || c == '>') return false;
    }
  }
  return true;
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
  auto p = tokens(pattern), s = tokens(subject);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return s.size() > i;
    if (i >= s.size()) return false;
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return p.size() == s.size();
}

std::shared_ptr<MessageBroker> make_in_process_broker() { return std::make_shared<InProcessBroker>(); }

}  // namespace stratus::plugins

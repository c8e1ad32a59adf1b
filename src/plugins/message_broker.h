// The broker behind wasmcloud:messaging: subjects as NATS has them
// ("orders.eu.new"; in subscriptions `*` stands for one token and a final
// `>` for the rest). Backends: in-process (the embedded default, one per
// host, so the workloads of a host reach each other) and NATS (libnats).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::plugins {

struct Message {
  Message() = default;
  // Not an aggregate: {subject, body, reply_to} leaves the trace context empty.
  Message(std::string s, std::vector<uint8_t> b, std::optional<std::string> r, std::string parent = {},
          std::string state = {})
      : subject(std::move(s)),
        body(std::move(b)),
        reply_to(std::move(r)),
        traceparent(std::move(parent)),
        tracestate(std::move(state)) {}
  std::string subject;
  std::vector<uint8_t> body;
  std::optional<std::string> reply_to;
  // W3C trace context of the span that published it (empty: none): NATS
  // carries them as message headers of these names.
  std::string traceparent, tracestate;
};

// Ends its subscription when destroyed, once deliveries under way returned.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

class MessageBroker {
 public:
  virtual ~MessageBroker() = default;
  // The broker as OpenTelemetry's `messaging.system` names it ("nats"; "stratus" for the in-process one).
  virtual const char* system_name() const = 0;

  // A subject with a wildcard, or a body past the broker's limit, is an error.
  virtual Result<void> publish(const Message& message) = 0;
  // Publishes `message` (its subject, body and trace context; its
  // reply_to is not read) with a reply subject of its own and waits for
  // the one reply. Errors: nobody subscribes to the subject, or no reply
  // came in `timeout`.
  virtual Result<Message> request(const Message& message, std::chrono::milliseconds timeout) = 0;
  // The same without a trace context.
  Result<Message> request(const std::string& subject, const std::vector<uint8_t>& body,
                          std::chrono::milliseconds timeout) {
    return request(Message{subject, body, std::nullopt}, timeout);
  }
  // Calls `deliver` for each message published to a subject `pattern`
  // matches, on a thread of the broker's.
  virtual Result<std::unique_ptr<Subscription>> subscribe(const std::string& pattern,
                                                          std::function<void(Message)> deliver) = 0;
};

std::shared_ptr<MessageBroker> make_in_process_broker();
// Connects to the NATS server at `url` (nats://HOST:PORT); reconnects by
// itself when the connection drops.
Result<std::shared_ptr<MessageBroker>> open_nats_broker(const std::string& url);

// Whether `subject` is a subject to publish to (tokens of printable
// characters without spaces, split by '.'; no wildcards), or with
// `pattern` a subscription's (`*` tokens, a final `>`).
bool valid_subject(std::string_view subject, bool pattern = false);
bool subject_matches(std::string_view pattern, std::string_view subject);

// The largest body either broker carries (NATS's default max_payload).
inline constexpr size_t kMaxMessageBody = 1024 * 1024;

}  // namespace stratus::plugins

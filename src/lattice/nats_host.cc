#include "lattice/nats_host.h"

#include <nats/nats.h>

#include <fstream>
#include <random>

#include "lattice/protojson.h"
#include "plugins/dispatcher.h"

namespace stratus::lattice {
namespace {

std::string why(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) text += ": " + std::string(last);
  return text;
}

}  // namespace

std::string request_subject(const std::string& host_id, const std::string& verb) {
  return "runtime.host." + host_id + "." + verb;
}
std::string heartbeat_subject(const std::string& host_id) { return "runtime.operator.heartbeat." + host_id; }

// What the connection's own callbacks (disconnected, reconnected, the
// reconnect delay) reach. libnats calls them on its thread, the last ones
// after natsConnection_Close returns: so they hold this, not the Impl,
// which detaches itself first, and the closed callback, the last of all,
// frees it.
struct ConnectionEvents {
  std::mutex mu;
  NatsHost::Impl* impl = nullptr;  // null once the Impl is closing
  std::minstd_rand random{std::random_device{}()};
};

class NatsHost::Impl {
 public:
  Impl(HostProtocol& protocol, NatsSettings settings, std::atomic<uint64_t>& heartbeats)
      : protocol_(protocol),
        settings_(std::move(settings)),
        heartbeats_(heartbeats),
        prefix_("runtime.host." + protocol.identity().id + "."),
        beat_subject_(heartbeat_subject(protocol.identity().id)) {
    events_->impl = this;
  }

  ~Impl() {
    {
      std::lock_guard lock(events_->mu);
      events_->impl = nullptr;
    }
    if (sub_ != nullptr) {
      // No new requests; the callback under way returns first.
      if (natsSubscription_Drain(sub_) == NATS_OK) natsSubscription_WaitForDrainCompletion(sub_, 5000);
      natsSubscription_Destroy(sub_);
    }
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    wake_.notify_all();
    if (beater_.joinable()) beater_.join();
    workers_.reset();  // the requests under way answer before the connection closes
    if (conn_ != nullptr) {
      natsConnection_Close(conn_);
      natsConnection_Destroy(conn_);
    } else {
      delete events_;  // never connected: no callback will come
    }
  }

  Result<void> connect() {
    // libnats reads the creds file only when it connects, and then says
    // little about a missing one.
    if (!settings_.creds_file.empty()) {
      std::ifstream creds(settings_.creds_file);
      if (!creds) return make_error("--nats-creds " + settings_.creds_file + ": cannot read it");
    }
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    auto set = [&](natsStatus next) {
      if (s == NATS_OK) s = next;
    };
    set(natsOptions_SetServers(opts, nullptr, 0));
    set(natsOptions_SetURL(opts, settings_.url.c_str()));
    set(natsOptions_SetName(opts, ("stratus host " + protocol_.identity().id).c_str()));
    set(natsOptions_SetTimeout(opts, 2000));
    set(natsOptions_SetMaxReconnect(opts, -1));
    set(natsOptions_SetCustomReconnectDelay(opts, &Impl::reconnect_delay, events_));
    set(natsOptions_SetDisconnectedCB(opts, &Impl::on_disconnected, events_));
    set(natsOptions_SetReconnectedCB(opts, &Impl::on_reconnected, events_));
    set(natsOptions_SetClosedCB(opts, &Impl::on_closed, events_));
    if (!settings_.creds_file.empty())
      set(natsOptions_SetUserCredentialsFromFiles(opts, settings_.creds_file.c_str(), nullptr));
    bool tls =
        settings_.url.rfind("tls://", 0) == 0 || !settings_.tls_ca_file.empty() || !settings_.tls_cert_file.empty();
    if (tls) set(natsOptions_SetSecure(opts, true));
    if (!settings_.tls_ca_file.empty()) set(natsOptions_LoadCATrustedCertificates(opts, settings_.tls_ca_file.c_str()));
    if (!settings_.tls_cert_file.empty() || !settings_.tls_key_file.empty()) {
      if (settings_.tls_cert_file.empty() || settings_.tls_key_file.empty()) {
        natsOptions_Destroy(opts);
        return make_error("--nats-tls-cert and --nats-tls-key go together");
      }
      set(natsOptions_LoadCertificatesChain(opts, settings_.tls_cert_file.c_str(), settings_.tls_key_file.c_str()));
    }
    if (s != NATS_OK) {
      std::string message = "nats options: " + why(s);
      natsOptions_Destroy(opts);
      return make_error(message);
    }
    s = natsConnection_Connect(&conn_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
      std::string message = "nats " + redacted(settings_.url) + ": cannot connect: " + why(s);
      if (!settings_.creds_file.empty()) message += " (credentials from --nats-creds " + settings_.creds_file + ")";
      return make_error(message);
    }
    s = natsConnection_Subscribe(&sub_, conn_, (prefix_ + ">").c_str(), &Impl::on_request, this);
    if (s == NATS_OK) s = natsConnection_Flush(conn_);
    if (s != NATS_OK) return make_error("nats: subscribe " + prefix_ + ">: " + why(s));
    beater_ = std::thread([this] { beat(); });
    return {};
  }

  bool connected() const { return natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED; }

  const char* state() const {
    switch (natsConnection_Status(conn_)) {
      case NATS_CONN_STATUS_DISCONNECTED: return "disconnected";
      case NATS_CONN_STATUS_CONNECTING: return "connecting";
      case NATS_CONN_STATUS_CONNECTED: return "connected";
      case NATS_CONN_STATUS_CLOSED: return "closed";
      case NATS_CONN_STATUS_RECONNECTING: return "reconnecting";
      case NATS_CONN_STATUS_DRAINING_SUBS:
      case NATS_CONN_STATUS_DRAINING_PUBS: return "draining";
    }
    return "disconnected";
  }
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

 private:
  // user:password@ left out of what is logged.
  static std::string redacted(const std::string& url) {
    auto scheme = url.find("://");
    auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
    return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
  }

  void log(observe::Severity severity, const std::string& line) const {
    if (settings_.log) settings_.log(severity, line);
  }

  static int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
    auto* events = static_cast<ConnectionEvents*>(closure);
    int64_t ms = 100;
    for (int i = 1; i < attempts && ms < 2000; ++i) ms *= 2;
    ms = std::min<int64_t>(ms, 2000);
    std::uniform_int_distribution<int64_t> jitter(0, ms / 5);
    std::lock_guard lock(events->mu);
    return ms + jitter(events->random);
  }

  static void on_disconnected(natsConnection*, void* closure) {
    auto* events = static_cast<ConnectionEvents*>(closure);
    std::lock_guard lock(events->mu);
    if (events->impl == nullptr) return;  // our own close
    events->impl->log(observe::Severity::kWarn, "NATS connection lost; reconnecting (workloads keep serving)");
  }

  static void on_reconnected(natsConnection*, void* closure) {
    auto* events = static_cast<ConnectionEvents*>(closure);
    std::lock_guard lock(events->mu);
    if (events->impl == nullptr) return;
    Impl& self = *events->impl;
    self.reconnects_.fetch_add(1, std::memory_order_relaxed);
    self.log(observe::Severity::kInfo, "NATS reconnected");
    {
      std::lock_guard beat_lock(self.mu_);
      self.beat_now_ = true;
    }
    self.wake_.notify_all();
  }

  static void on_closed(natsConnection*, void* closure) { delete static_cast<ConnectionEvents*>(closure); }

  static void on_request(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::string subject = natsMsg_GetSubject(msg);
    const char* data = natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    std::string body = data != nullptr && len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
    const char* reply = natsMsg_GetReply(msg);
    std::string reply_to = reply != nullptr ? reply : "";
    natsMsg_Destroy(msg);
    self->workers_->post([self, subject = std::move(subject), body = std::move(body), reply_to] {
      self->answer(subject, body, reply_to);
    });
  }

  void answer(const std::string& subject, const std::string& body, const std::string& reply_to) {
    std::string verb = subject.substr(prefix_.size());
    auto reply = protocol_.handle(verb, body);
    if (!reply) {
      log(observe::Severity::kWarn, "request on " + subject + ": the host protocol has no `" + verb + "`");
      return;
    }
    if (reply_to.empty()) {
      log(observe::Severity::kWarn, "request on " + subject + " without a reply subject: answered no one");
      return;
    }
    const std::string& text = *reply;
    natsStatus s = natsConnection_Publish(conn_, reply_to.c_str(), text.data(), static_cast<int>(text.size()));
    if (s != NATS_OK) log(observe::Severity::kError, "reply to " + subject + ": " + why(s));
  }

  void beat() {
    std::unique_lock lock(mu_);
    for (;;) {
      lock.unlock();
      if (connected()) {
        std::string body = to_json(protocol_.heartbeat());
        if (natsConnection_Publish(conn_, beat_subject_.c_str(), body.data(), static_cast<int>(body.size())) == NATS_OK)
          heartbeats_.fetch_add(1);
      }
      lock.lock();
      wake_.wait_for(lock, settings_.heartbeat_interval, [&] { return closing_ || beat_now_; });
      if (closing_) return;
      beat_now_ = false;
    }
  }

  HostProtocol& protocol_;
  NatsSettings settings_;
  std::atomic<uint64_t>& heartbeats_;
  std::string prefix_;
  std::string beat_subject_;
  natsConnection* conn_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::unique_ptr<plugins::Dispatcher> workers_ = std::make_unique<plugins::Dispatcher>(8);
  std::thread beater_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool closing_ = false;
  bool beat_now_ = false;
  std::atomic<uint64_t> reconnects_{0};
  ConnectionEvents* events_ = new ConnectionEvents{};  // freed by the closed callback (see above)
};

NatsHost::NatsHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NatsHost::~NatsHost() = default;

Result<std::unique_ptr<NatsHost>> NatsHost::start(HostProtocol& protocol, NatsSettings settings) {
  auto host = std::unique_ptr<NatsHost>(new NatsHost(nullptr));
  host->impl_ = std::make_unique<Impl>(protocol, std::move(settings), host->heartbeats_);
  if (auto connected = host->impl_->connect(); !connected) return std::move(connected).error();
  return host;
}

bool NatsHost::connected() const { return impl_->connected(); }
const char* NatsHost::state() const { return impl_->state(); }
uint64_t NatsHost::reconnects() const { return impl_->reconnects(); }

}  // namespace stratus::lattice

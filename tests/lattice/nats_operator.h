// What the end-to-end tests of `stratus host` share: a real `nats-server
// -js` on a loopback port (start_nats) and the runtime-operator's side of
// the host protocol (Operator): protojson requests on runtime.host.<id>.*,
// heartbeats read from runtime.operator.heartbeat.>.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lattice/protojson.h"
#include "tests/support/http_get.h"
#include "tests/support/server_process.h"

namespace stratus::test_support {

namespace v2 = wasmcloud::runtime::v2;
using lattice::from_json;

// The operator's side: one connection that reconnects, requests with a
// timeout, and every heartbeat seen, by host id.
class Operator {
 public:
  explicit Operator(uint16_t nats_port) {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, ("nats://127.0.0.1:" + std::to_string(nats_port)).c_str());
    natsOptions_SetMaxReconnect(opts, -1);
    natsOptions_SetReconnectWait(opts, 100);
    ok_ = natsConnection_Connect(&conn_, opts) == NATS_OK;
    natsOptions_Destroy(opts);
    if (ok_)
      ok_ = natsConnection_Subscribe(&sub_, conn_, "runtime.operator.heartbeat.>", &Operator::on_beat, this) == NATS_OK;
    if (ok_) ok_ = natsConnection_Flush(conn_) == NATS_OK;
  }
  ~Operator() {
    if (sub_ != nullptr) {
      natsSubscription_Unsubscribe(sub_);
      natsSubscription_Destroy(sub_);
    }
    if (conn_ != nullptr) {
      natsConnection_Close(conn_);
      natsConnection_Destroy(conn_);
    }
  }
  bool ok() const { return ok_; }

  // The reply's body, or "" when none came in time.
  std::string request(const std::string& subject, const std::string& body, int64_t timeout_ms = 30'000) {
    natsMsg* reply = nullptr;
    if (natsConnection_Request(&reply, conn_, subject.c_str(), body.data(), static_cast<int>(body.size()),
                               timeout_ms) != NATS_OK)
      return "";
    std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
    natsMsg_Destroy(reply);
    return out;
  }

  v2::WorkloadStatus call(const std::string& host, const std::string& verb, const std::string& body) {
    v2::WorkloadStartResponse r;  // the three responses have the same shape
    auto reply = request("runtime.host." + host + "." + verb, body);
    EXPECT_FALSE(reply.empty()) << "no reply from " << host << " to " << verb;
    EXPECT_TRUE(from_json(reply, r)) << reply;
    return r.workload_status();
  }

  // Heartbeats from `host` received after `since`.
  size_t beats_since(const std::string& host, std::chrono::steady_clock::time_point since) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& t : beats_[host])
      if (t > since) ++n;
    return n;
  }
  bool wait_beats(const std::string& host, std::chrono::steady_clock::time_point since, size_t n,
                  std::chrono::milliseconds within) {
    std::unique_lock lock(mu_);
    return seen_.wait_for(lock, within, [&] {
      size_t k = 0;
      for (const auto& t : beats_[host])
        if (t > since) ++k;
      return k >= n;
    });
  }
  v2::HostHeartbeat last_beat(const std::string& host) {
    std::lock_guard lock(mu_);
    return last_[host];
  }

 private:
  static void on_beat(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Operator*>(closure);
    v2::HostHeartbeat hb;
    std::string body(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    std::string subject = natsMsg_GetSubject(msg);
    natsMsg_Destroy(msg);
    if (!from_json(body, hb)) return;
    {
      std::lock_guard lock(self->mu_);
      std::string id = subject.substr(std::string("runtime.operator.heartbeat.").size());
      if (hb.id() == id) {
        self->beats_[id].push_back(std::chrono::steady_clock::now());
        self->last_[id] = hb;
      }
    }
    self->seen_.notify_all();
  }

  natsConnection* conn_ = nullptr;
  natsSubscription* sub_ = nullptr;
  bool ok_ = false;
  std::mutex mu_;
  std::condition_variable seen_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> beats_;
  std::map<std::string, v2::HostHeartbeat> last_;
};

inline std::unique_ptr<ServerProcess> start_nats(uint16_t port, const std::filesystem::path& dir) {
  return std::make_unique<ServerProcess>(std::vector<std::string>{"nats-server", "-js", "-a", "127.0.0.1", "-p",
                                                                  std::to_string(port), "-sd", (dir / "js").string()},
                                         port, (dir / "nats.log").string());
}

// GET /'s status on `port`, -1 when nothing answered.
inline int http_status(uint16_t port) {
  try {
    return testing::http_get(port, "/").result_int();
  } catch (const std::exception&) {
    return -1;
  }
}

// The workload.start body of the example http-hello (`lattice/hello`) as `id`.
inline std::string start_body(const std::string& id) {
  return R"({"workloadId":")" + id + R"(","workload":{"namespace":"lattice","name":"hello","annotations":{"by":"test"},
    "witWorld":{"components":[{"name":"hello","image":")" STRATUS_EXAMPLES_DIR R"(/http-hello.wasm",
      "imagePullPolicy":"IMAGE_PULL_POLICY_IF_NOT_PRESENT","poolSize":1}],
    "hostInterfaces":[{"namespace":"wasi","package":"http","version":"0.2.0","interfaces":["incoming-handler"]}]}}})";
}

}  // namespace stratus::test_support

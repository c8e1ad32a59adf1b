// bench/lattice: `stratus host` as wasmCloud's operator drives it, on a real
// nats-server -js and two hosts (aot, their cache warmed first):
//   start    workload.start to its RUNNING reply, median of 10 (a start and
//            a stop each), against a heartbeat request's round trip over the
//            same NATS (what the protocol itself costs);
//   http     wrk's requests/s on both hosts at once (the sum) against one
//            host alone, the same workload on each. On a machine of few
//            cores the two hosts share them: the ratio says what a second
//            host adds here, not on a second machine.
#include <nats/nats.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_line.h"
#include "lattice/protojson.h"
#include "tests/support/server_process.h"

namespace {

using namespace std::chrono_literals;
using stratus::test_support::free_loopback_port;
using stratus::test_support::ServerProcess;
namespace v2 = wasmcloud::runtime::v2;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string request(natsConnection* conn, const std::string& subject, const std::string& body) {
  natsMsg* reply = nullptr;
  if (natsConnection_Request(&reply, conn, subject.c_str(), body.data(), static_cast<int>(body.size()), 120'000) !=
      NATS_OK)
    return "";
  std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

v2::WorkloadState call(natsConnection* conn, const std::string& host, const std::string& verb,
                       const std::string& body) {
  v2::WorkloadStartResponse r;
  if (!stratus::lattice::from_json(request(conn, "runtime.host." + host + "." + verb, body), r))
    return v2::WORKLOAD_STATE_UNSPECIFIED;
  if (r.workload_status().workload_state() == v2::WORKLOAD_STATE_ERROR)
    std::fprintf(stderr, "bench: %s: %s\n", verb.c_str(), r.workload_status().message().c_str());
  return r.workload_status().workload_state();
}

// wrk's requests/s against 127.0.0.1:PORT for SECONDS.
double wrk_rps(uint16_t port, int seconds) {
  std::string command = "wrk -t1 -c8 -d" + std::to_string(seconds) + "s http://127.0.0.1:" + std::to_string(port) +
                        "/ 2>&1 | awk '/^Requests\\/sec:/ {print $2}'";
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) return 0;
  double rps = 0;
  if (std::fscanf(out, "%lf", &rps) != 1) rps = 0;
  ::pclose(out);
  return rps;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: lattice_bench STRATUS HTTP_HELLO.wasm CACHE_DIR\n");
    return 2;
  }
  std::string stratus = argv[1], image = argv[2], cache = argv[3];
  auto dir = std::filesystem::temp_directory_path() / ("stratus-bench-lattice-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  uint16_t nats_port = free_loopback_port();
  ServerProcess nats(
      {"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(nats_port), "-sd", (dir / "js").string()},
      nats_port);
  if (!nats.running()) {
    std::fprintf(stderr, "bench: nats-server did not start\n");
    return 1;
  }
  std::string url = "nats://127.0.0.1:" + std::to_string(nats_port);
  std::vector<std::string> ids{"b1", "b2"};
  std::vector<uint16_t> ports;
  std::vector<std::unique_ptr<ServerProcess>> hosts;
  for (const auto& id : ids) {
    ports.push_back(free_loopback_port());
    hosts.push_back(std::make_unique<ServerProcess>(
        std::vector<std::string>{stratus, "host", "--nats", url, "--host-id", id, "--http-addr",
                                 "127.0.0.1:" + std::to_string(ports.back()), "--engine", "aot", "--cache-dir", cache,
                                 "--data-dir", (dir / id).string()},
        ports.back(), (dir / (id + ".log")).string()));
    if (!hosts.back()->running()) {
      std::fprintf(stderr, "bench: stratus host %s did not start\n", id.c_str());
      return 1;
    }
  }
  natsConnection* conn = nullptr;
  if (natsConnection_ConnectTo(&conn, url.c_str()) != NATS_OK) return 1;

  auto start_body = [&](const std::string& id) {
    return R"({"workloadId":")" + id +
           R"(","workload":{"namespace":"bench","name":"hello","witWorld":{"components":[{"name":"hello","image":")" +
           image + R"(","poolSize":2,"maxConcurrency":16}],"hostInterfaces":[{"namespace":"wasi","package":"http",
           "version":"0.2.0","interfaces":["incoming-handler"]}]}}})";
  };
  // Warm the aot cache (both hosts share it), and wait for both to answer.
  for (const auto& id : ids) {
    for (int i = 0; i < 100 && request(conn, "runtime.host." + id + ".heartbeat", "{}").empty(); ++i)
      std::this_thread::sleep_for(50ms);
  }
  if (call(conn, "b1", "workload.start", start_body("warm")) != v2::WORKLOAD_STATE_RUNNING) return 1;
  call(conn, "b1", "workload.stop", R"({"workloadId":"warm"})");

  std::vector<double> starts, beats;
  for (int i = 0; i < 10; ++i) {
    auto t = std::chrono::steady_clock::now();
    (void)request(conn, "runtime.host.b1.heartbeat", "{}");
    beats.push_back(ms_since(t));
    t = std::chrono::steady_clock::now();
    if (call(conn, "b1", "workload.start", start_body("s" + std::to_string(i))) != v2::WORKLOAD_STATE_RUNNING) return 1;
    starts.push_back(ms_since(t));
    call(conn, "b1", "workload.stop", R"({"workloadId":"s)" + std::to_string(i) + "\"}");
  }
  double start_ms = median(starts), beat_ms = median(beats);

  for (const auto& id : ids)
    if (call(conn, id, "workload.start", start_body("w-" + id)) != v2::WORKLOAD_STATE_RUNNING) return 1;
  (void)wrk_rps(ports[0], 1);  // warm the pools
  (void)wrk_rps(ports[1], 1);
  double one = wrk_rps(ports[0], 5);
  double a = 0, b = 0;
  std::thread ta([&] { a = wrk_rps(ports[0], 5); });
  std::thread tb([&] { b = wrk_rps(ports[1], 5); });
  ta.join();
  tb.join();
  double two = a + b;

  std::printf("bench/lattice (stratus host, nats-server -js, aot)\n");
  std::printf("  workload.start -> RUNNING   %8.2f ms   heartbeat round trip %6.2f ms   ratio %.1f\n", start_ms,
              beat_ms, start_ms / beat_ms);
  std::printf("  HTTP two hosts at once      %8.0f req/s (%.0f + %.0f)   one host %.0f req/s   ratio %.2f\n", two, a, b,
              one, one > 0 ? two / one : 0);
  stratus::bench::bench_line("lattice/start_to_running", start_ms, "ms", start_ms / beat_ms, "heartbeat_round_trip",
                             beat_ms, "");
  stratus::bench::bench_line("lattice/http_two_hosts", two, "req/s", one > 0 ? two / one : 0, "one_host", one, "");
  natsConnection_Destroy(conn);
  hosts.clear();
  std::filesystem::remove_all(dir);
  return 0;
}

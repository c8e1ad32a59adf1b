// `stratus host` end to end, as wasmCloud's runtime-operator drives it: a
// real `nats-server -js` on a loopback port, three `stratus host`
// processes, and this test speaking as the operator (protojson requests on
// runtime.host.<id>.*, heartbeats read from runtime.operator.heartbeat.>);
// the example counter on two hosts shares its count through a JetStream KV
// bucket.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lattice/protojson.h"
#include "tests/lattice/nats_operator.h"
#include "tests/support/http_get.h"
#include "tests/support/nats_creds.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace stratus::lattice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::free_loopback_port;
using test_support::http_status;
using test_support::Operator;
using test_support::ServerProcess;
using test_support::start_body;
using test_support::start_nats;
namespace v2 = wasmcloud::runtime::v2;

// GET / with a Host header: the status and the body.
std::pair<int, std::string> get_host(uint16_t port, const std::string& host) {
  namespace http = boost::beast::http;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, host);
    req.keep_alive(false);
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return {static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception& e) {
    return {-1, e.what()};
  }
}

// The example counter (and the greeter it links to) counting its visits in
// a JetStream KV bucket, reached with Host: counter.test.
std::string counter_body(const std::string& id, uint16_t nats_port) {
  std::string examples = STRATUS_EXAMPLES_DIR;
  return R"({"workloadId":")" + id + R"(","workload":{"namespace":"lattice","name":"counter","witWorld":{
    "components":[{"name":"counter","image":")" +
         examples + R"(/counter.wasm","localResources":{"config":{"name":"lattice"}}},
      {"name":"greeter","image":")" +
         examples + R"(/greeter.wasm"}],
    "hostInterfaces":[{"namespace":"wasi","package":"http","interfaces":["incoming-handler"],"config":{"host":"counter.test"}},
      {"namespace":"wasi","package":"keyvalue","version":"0.2.0-draft","interfaces":["store","atomics"],
       "config":{"backend":"nats","url":"nats://127.0.0.1:)" +
         std::to_string(nats_port) + R"(","bucket":"lattice-e2e"}},
      {"namespace":"wasi","package":"config","version":"0.2.0-rc.1","interfaces":["store"]},
      {"namespace":"wasi","package":"logging","version":"0.1.0-draft","interfaces":["logging"]}]}}})";
}

TEST(StratusHostTest, ThreeHostsOverNats) {
  test_support::TempDir dir("stratus-lattice-e2e");
  uint16_t nats_port = free_loopback_port();
  auto nats = start_nats(nats_port, dir.path());
  ASSERT_TRUE(nats->running()) << "nats-server did not start (./x deps installs it)";
  Operator op(nats_port);
  ASSERT_TRUE(op.ok());

  const std::vector<std::string> ids{"h1", "h2", "h3"};
  std::map<std::string, uint16_t> http_port;
  std::map<std::string, std::unique_ptr<ServerProcess>> hosts;
  auto began = Clock::now();
  for (const auto& id : ids) {
    http_port[id] = free_loopback_port();
    hosts[id] = std::make_unique<ServerProcess>(
        std::vector<std::string>{STRATUS_BINARY, "host", "--nats", "nats://127.0.0.1:" + std::to_string(nats_port),
                                 "--host-id", id, "--host-group", "lattice-test", "--label", "zone=" + id,
                                 "--http-addr", "127.0.0.1:" + std::to_string(http_port[id]), "--engine", "interp",
                                 "--data-dir", (dir.path() / id).string(), "--heartbeat-interval", "300ms"},
        http_port[id], (dir.path() / (id + ".log")).string());
    ASSERT_TRUE(hosts[id]->running()) << test_support::read_text(dir.path() / (id + ".log"));
  }
  for (const auto& id : ids) {
    ASSERT_TRUE(op.wait_beats(id, began, 1, 5s)) << id << " sent no heartbeat";
    auto hb = op.last_beat(id);
    EXPECT_EQ(hb.labels().at("hostgroup"), "lattice-test");
    EXPECT_EQ(hb.labels().at("zone"), id);
    EXPECT_EQ(hb.http_port(), http_port[id]);
  }
  v2::HostHeartbeat asked;
  ASSERT_TRUE(from_json(op.request("runtime.host.h3.heartbeat", "{}", 5000), asked));
  EXPECT_EQ(asked.id(), "h3");
  EXPECT_EQ(asked.workload_count(), 0U);

  // A workload on two of the three.
  for (const char* id : {"h1", "h2"}) {
    auto s = op.call(id, "workload.start", start_body(std::string("uid-") + id));
    EXPECT_EQ(s.workload_state(), v2::WORKLOAD_STATE_RUNNING) << id << ": " << s.message();
    EXPECT_EQ(http_status(http_port[id]), 200) << id;
    EXPECT_EQ(op.call(id, "workload.status", std::string(R"({"workloadId":"uid-)") + id + "\"}").workload_state(),
              v2::WORKLOAD_STATE_RUNNING);
  }
  EXPECT_EQ(http_status(http_port["h3"]), 404) << "h3 has no workload";
  EXPECT_EQ(op.call("h3", "workload.status", R"({"workloadId":"uid-h1"})").workload_state(),
            v2::WORKLOAD_STATE_NOT_FOUND);
  auto bad = op.call("h3", "workload.start",
                     R"({"workloadId":"x","workload":{"witWorld":{"components":[{"poolSize":"big"}]}}})");
  EXPECT_EQ(bad.workload_state(), v2::WORKLOAD_STATE_ERROR);
  EXPECT_NE(bad.message().find("workload.wit_world.components[0].pool_size"), std::string::npos) << bad.message();

  // Replicas on two hosts share their keyvalue through JetStream.
  for (const char* id : {"h1", "h2"}) {
    auto s = op.call(id, "workload.start", counter_body(std::string("counter-") + id, nats_port));
    ASSERT_EQ(s.workload_state(), v2::WORKLOAD_STATE_RUNNING) << id << ": " << s.message();
  }
  int visit = 0;
  for (const char* id : {"h1", "h2", "h1", "h2"}) {
    ++visit;
    auto [status, body] = get_host(http_port[id], "counter.test");
    EXPECT_EQ(status, 200) << id << ": " << body;
    EXPECT_NE(body.find("had " + std::to_string(visit) + " visit"), std::string::npos) << id << ": " << body;
  }

  ASSERT_TRUE(op.wait_beats("h1", Clock::now(), 1, 3s));
  EXPECT_EQ(op.last_beat("h1").workload_count(), 2U);
  EXPECT_EQ(op.last_beat("h1").component_count(), 3U);

  // NATS goes away: HTTP is served throughout; the hosts reconnect and
  // their heartbeats resume.
  nats->stop();
  auto down = Clock::now();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(http_status(http_port["h1"]), 200);
    EXPECT_EQ(http_status(http_port["h2"]), 200);
    std::this_thread::sleep_for(100ms);
  }
  nats = start_nats(nats_port, dir.path());
  ASSERT_TRUE(nats->running());
  auto up = Clock::now();
  std::printf("nats-server was down for %.0f ms\n", std::chrono::duration<double, std::milli>(up - down).count());
  for (const auto& id : ids) {
    EXPECT_TRUE(op.wait_beats(id, up, 2, 8s)) << id << " did not resume its heartbeats";
    std::printf("%s: two heartbeats by %.0f ms after nats-server came back\n", id.c_str(),
                std::chrono::duration<double, std::milli>(Clock::now() - up).count());
  }
  EXPECT_EQ(op.call("h1", "workload.status", R"({"workloadId":"uid-h1"})").workload_state(),
            v2::WORKLOAD_STATE_RUNNING);
  EXPECT_EQ(http_status(http_port["h1"]), 200);
  auto after = get_host(http_port["h2"], "counter.test");
  EXPECT_NE(after.second.find("had 5 visits"), std::string::npos)
      << "the keyvalue after reconnecting: " << after.second;

  // kill -9 one host: the others go on, and its heartbeats stop.
  hosts["h1"]->kill_with(SIGKILL);
  auto killed = Clock::now();
  EXPECT_EQ(http_status(http_port["h2"]), 200);
  EXPECT_EQ(op.call("h2", "workload.status", R"({"workloadId":"uid-h2"})").workload_state(),
            v2::WORKLOAD_STATE_RUNNING);
  EXPECT_TRUE(op.wait_beats("h2", killed, 5, 5s));
  EXPECT_TRUE(op.wait_beats("h3", killed, 5, 5s));
  EXPECT_EQ(op.beats_since("h1", killed + 500ms), 0U) << "a killed host still beats";  // (one in flight may land late)
  EXPECT_TRUE(op.request("runtime.host.h1.heartbeat", "{}", 500).empty()) << "a killed host answers";

  // Stop: the workload goes, its id is not found, HTTP stops routing to it.
  auto stopped = op.call("h2", "workload.stop", R"({"workloadId":"uid-h2"})");
  EXPECT_EQ(stopped.workload_state(), v2::WORKLOAD_STATE_STOPPING) << stopped.message();
  EXPECT_EQ(op.call("h2", "workload.status", R"({"workloadId":"uid-h2"})").workload_state(),
            v2::WORKLOAD_STATE_NOT_FOUND);
  EXPECT_EQ(http_status(http_port["h2"]), 404);
}

// `stratus host ARGS...`'s exit code and output, for runs that end by
// themselves.
std::pair<int, std::string> run_host(const std::vector<std::string>& args) {
  std::string command = STRATUS_BINARY " host";
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) return {-1, "popen failed"};
  std::string text;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, out)) text.append(buf, n);
  int status = ::pclose(out);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// User and password in the URL reach a server that wants them; a wrong
// password, a server that is not there and a bad host id are clear errors
// at start (exit 1), not a host waiting for ever.
TEST(StratusHostTest, CredentialsAndStartErrors) {
  test_support::TempDir dir("stratus-lattice-auth");
  uint16_t nats_port = free_loopback_port();
  ServerProcess nats(
      {"nats-server", "-a", "127.0.0.1", "-p", std::to_string(nats_port), "--user", "op", "--pass", "s3cret"},
      nats_port);
  ASSERT_TRUE(nats.running()) << "nats-server did not start (./x deps installs it)";
  std::string at = "127.0.0.1:" + std::to_string(nats_port);

  uint16_t http = free_loopback_port();
  ServerProcess host(
      {STRATUS_BINARY, "host", "--nats", "nats://op:s3cret@" + at, "--host-id", "auth1", "--http-addr",
       "127.0.0.1:" + std::to_string(http), "--engine", "interp", "--data-dir", (dir.path() / "data").string()},
      http, (dir.path() / "host.log").string());
  ASSERT_TRUE(host.running());
  natsConnection* conn = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&conn, ("nats://op:s3cret@" + at).c_str()), NATS_OK);
  natsMsg* reply = nullptr;
  natsStatus s = NATS_TIMEOUT;
  for (int i = 0; i < 50 && s != NATS_OK; ++i) {  // the host subscribes once connected (no responders till then)
    s = natsConnection_RequestString(&reply, conn, "runtime.host.auth1.heartbeat", "{}", 200);
    if (s != NATS_OK) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(s, NATS_OK) << test_support::read_text(dir.path() / "host.log");
  v2::HostHeartbeat hb;
  EXPECT_TRUE(from_json(std::string(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply))), hb));
  EXPECT_EQ(hb.id(), "auth1");
  natsMsg_Destroy(reply);
  natsConnection_Destroy(conn);

  auto wrong = run_host({"--nats", "nats://op:wrong@" + at, "--host-id", "auth2", "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(wrong.first, 1) << wrong.second;
  EXPECT_NE(wrong.second.find("cannot connect"), std::string::npos) << wrong.second;
  EXPECT_EQ(wrong.second.find("wrong"), std::string::npos) << "the password is not printed: " << wrong.second;

  auto absent = run_host({"--nats", "nats://127.0.0.1:" + std::to_string(free_loopback_port()), "--host-id", "x",
                          "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(absent.first, 1) << absent.second;
  EXPECT_NE(absent.second.find("cannot connect"), std::string::npos) << absent.second;

  auto bad_id = run_host({"--nats", "nats://" + at, "--host-id", "a.b", "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(bad_id.first, 1) << bad_id.second;
  EXPECT_NE(bad_id.second.find("--host-id 'a.b'"), std::string::npos) << bad_id.second;

  auto bad_label = run_host({"--host-id", "x", "--label", "novalue", "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(bad_label.first, 1) << bad_label.second;
  EXPECT_NE(bad_label.second.find("--label 'novalue'"), std::string::npos) << bad_label.second;
}

// TLS as libnats does it: a tls:// URL and the CA that signed the server's
// certificate. Without the CA the host refuses the server (exit 1).
TEST(StratusHostTest, Tls) {
  test_support::TempDir dir("stratus-lattice-tls");
  auto d = dir.path().string();
  std::string make_certs =
      "cd '" + d + "' && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && " +
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=stratus-test-ca && " +
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && " +
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 " +
      "-extfile san.ext";
  ASSERT_EQ(std::system(("(" + make_certs + ") >'" + d + "/certs.log' 2>&1").c_str()), 0)
      << test_support::read_text(dir.path() / "certs.log");
  uint16_t nats_port = free_loopback_port();
  ServerProcess nats({"nats-server", "-a", "127.0.0.1", "-p", std::to_string(nats_port), "--tls", "--tlscert",
                      d + "/server.pem", "--tlskey", d + "/server.key"},
                     nats_port, d + "/nats.log");
  ASSERT_TRUE(nats.running()) << test_support::read_text(dir.path() / "nats.log");
  std::string url = "tls://127.0.0.1:" + std::to_string(nats_port);

  uint16_t http = free_loopback_port();
  ServerProcess host(
      {STRATUS_BINARY, "host", "--nats", url, "--nats-tls-ca", d + "/ca.pem", "--host-id", "tls1", "--http-addr",
       "127.0.0.1:" + std::to_string(http), "--engine", "interp", "--data-dir", d + "/data"},
      http, d + "/host.log");
  ASSERT_TRUE(host.running()) << test_support::read_text(dir.path() / "host.log");

  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetSecure(opts, true);
  natsOptions_LoadCATrustedCertificates(opts, (d + "/ca.pem").c_str());
  natsConnection* conn = nullptr;
  ASSERT_EQ(natsConnection_Connect(&conn, opts), NATS_OK) << nats_GetLastError(nullptr);
  natsOptions_Destroy(opts);
  natsMsg* reply = nullptr;
  natsStatus s = NATS_TIMEOUT;
  for (int i = 0; i < 50 && s != NATS_OK; ++i) {
    s = natsConnection_RequestString(&reply, conn, "runtime.host.tls1.heartbeat", "{}", 200);
    if (s != NATS_OK) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(s, NATS_OK) << test_support::read_text(dir.path() / "host.log");
  v2::HostHeartbeat hb;
  EXPECT_TRUE(from_json(std::string(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply))), hb));
  EXPECT_EQ(hb.id(), "tls1");
  natsMsg_Destroy(reply);
  natsConnection_Destroy(conn);

  auto untrusted = run_host({"--nats", url, "--host-id", "tls2", "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(untrusted.first, 1) << untrusted.second;
  EXPECT_NE(untrusted.second.find("cannot connect"), std::string::npos) << untrusted.second;
}

// Decentralized auth as wasmCloud deployments use it: nats-server in
// operator mode (`resolver: MEMORY`, the account preloaded) trusting an
// operator made here, which signs an account, which signs the host's user.
// `--nats-creds` with that user's creds file connects and answers a
// heartbeat; a user of another operator, and a creds file that is not
// there, are clear errors at start (exit 1).
TEST(StratusHostTest, NatsCreds) {
  test_support::TempDir dir("stratus-lattice-creds");
  auto d = dir.path().string();
  test_support::nats_auth::Chain chain;
  uint16_t nats_port = free_loopback_port();
  std::ofstream(d + "/server.conf") << chain.server_config(nats_port);
  std::ofstream(d + "/host.creds") << chain.creds();
  ServerProcess nats({"nats-server", "-c", d + "/server.conf"}, nats_port, d + "/nats.log");
  ASSERT_TRUE(nats.running()) << test_support::read_text(dir.path() / "nats.log");
  std::string url = "nats://127.0.0.1:" + std::to_string(nats_port);

  // Without credentials the server refuses anyone.
  natsConnection* anonymous = nullptr;
  EXPECT_NE(natsConnection_ConnectTo(&anonymous, url.c_str()), NATS_OK);
  natsConnection_Destroy(anonymous);

  uint16_t http = free_loopback_port();
  ServerProcess host(
      {STRATUS_BINARY, "host", "--nats", url, "--nats-creds", d + "/host.creds", "--host-id", "creds1", "--http-addr",
       "127.0.0.1:" + std::to_string(http), "--engine", "interp", "--data-dir", d + "/data"},
      http, d + "/host.log");
  ASSERT_TRUE(host.running()) << test_support::read_text(dir.path() / "host.log");

  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetUserCredentialsFromFiles(opts, (d + "/host.creds").c_str(), nullptr);
  natsConnection* conn = nullptr;
  ASSERT_EQ(natsConnection_Connect(&conn, opts), NATS_OK) << nats_GetLastError(nullptr);
  natsOptions_Destroy(opts);
  natsMsg* reply = nullptr;
  natsStatus s = NATS_TIMEOUT;
  for (int i = 0; i < 50 && s != NATS_OK; ++i) {
    s = natsConnection_RequestString(&reply, conn, "runtime.host.creds1.heartbeat", "{}", 200);
    if (s != NATS_OK) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(s, NATS_OK) << test_support::read_text(dir.path() / "host.log");
  v2::HostHeartbeat hb;
  EXPECT_TRUE(from_json(std::string(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply))), hb));
  EXPECT_EQ(hb.id(), "creds1");
  natsMsg_Destroy(reply);
  natsConnection_Destroy(conn);

  test_support::nats_auth::Chain stranger;
  std::ofstream(d + "/stranger.creds") << stranger.creds();
  auto refused = run_host(
      {"--nats", url, "--nats-creds", d + "/stranger.creds", "--host-id", "creds2", "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(refused.first, 1) << refused.second;
  EXPECT_NE(refused.second.find("cannot connect"), std::string::npos) << refused.second;
  EXPECT_NE(refused.second.find("Authorization Violation"), std::string::npos) << refused.second;
  EXPECT_NE(refused.second.find("(credentials from --nats-creds " + d + "/stranger.creds)"), std::string::npos)
      << refused.second;
  EXPECT_EQ(refused.second.find(stranger.user.seed()), std::string::npos) << "the seed is not printed";

  auto missing =
      run_host({"--nats", url, "--nats-creds", d + "/none.creds", "--host-id", "creds3", "--http-addr", "127.0.0.1:0"});
  EXPECT_EQ(missing.first, 1) << missing.second;
  EXPECT_NE(missing.second.find("--nats-creds " + d + "/none.creds: cannot read it"), std::string::npos)
      << missing.second;
}

}  // namespace
}  // namespace stratus::lattice

// wasi:sockets 0.3 holds 0.2's walls: what the policy does not grant is
// refused and told to WasiConfig::on_refused, and an instance's sockets and
// lookups are capped by WasiConfig::max_sockets, one count with 0.2's.
// The guests are Wasmtime's p3_sockets_* programs (fixtures/jco/p3/sockets),
// run with grants or a cap they fail against; the refusals they meet are
// collected from on_refused.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tests/support/component_file.h"
#include "wasi/p2/sockets_wit.h"
#include "wasi/p2/wasi.h"
#include "wasi/p3/sockets.h"

namespace stratus::wasi::p2 {
namespace {

struct Run {
  CommandOutcome outcome;
  std::string stderr_text;
  std::vector<std::string> refused;

  bool refused_with(const std::string& start, const std::string& end) const {
    for (const auto& r : refused)
      if (r.starts_with(start) && r.ends_with(end)) return true;
    return false;
  }
  std::string all_refused() const {
    std::string out;
    for (const auto& r : refused) out += r + "\n";
    return out;
  }
};

// Runs `program` on the interpreter with `config`, for at most `timeout`;
// the refusals it meets are in the answer.
std::optional<Run> run(const std::string& program, WasiConfig config,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  engine::EngineOptions options;
  options.cache_dir = STRATUS_TEST_CACHE_DIR;
  auto engine = engine::make_engine("interp", options);
  EXPECT_TRUE(engine.ok()) << engine.error().message;
  if (!engine.ok()) return std::nullopt;
  auto component = testing::read_component(std::string(STRATUS_JCO_P3_SOCKETS) + "/" + program + ".wasm");
  EXPECT_TRUE(component.ok()) << component.error().message;
  if (!component.ok()) return std::nullopt;
  auto refused = std::make_shared<std::vector<std::string>>();
  config.args = {program};
  config.on_refused = [refused](const std::string& what) { refused->push_back(what); };
  auto err = std::make_shared<CapturedOutput>();
  config.stdout_stream = std::make_shared<CapturedOutput>();
  config.stderr_stream = err;
  component::InstantiateOptions instantiate;
  instantiate.limits.call_timeout = timeout;
  instantiate.allow_sync_cancel_in_waitable_set = true;  // wit-bindgen's older async runtime, as `stratus run`
  auto outcome = run_command(**engine, *component, std::move(config), instantiate);
  EXPECT_TRUE(outcome.ok()) << outcome.error().message;
  if (!outcome.ok()) return std::nullopt;
  return Run{std::move(*outcome), err->contents(), std::move(*refused)};
}

bool failed(const Run& r) { return r.outcome.trap || r.outcome.exit_code != 0; }

// The fixtures' grants (sockets_fixtures_test.cc): binds anywhere,
// connections on loopback.
WasiConfig loopback_grants() {
  WasiConfig config;
  AddressRule loopback;
  loopback.host = AddressRule::Host::Loopback;
  config.sockets.connect.push_back(loopback);
  config.sockets.bind.push_back(AddressRule{});
  return config;
}

// The sample applications hold a listener or server and a client at once:
// with room for one, the second socket is refused, with out-of-memory (0.3
// has no new-socket-limit), and told.
TEST(SocketsCapTest, TcpSocketPastTheCapIsRefusedAndTold) {
  WasiConfig config = loopback_grants();
  config.max_sockets = 1;
  auto r = run("p3-sockets-tcp-sample-application", std::move(config));
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r)) << "the program should fail at the cap";
  EXPECT_NE(r->stderr_text.find("OutOfMemory"), std::string::npos) << r->stderr_text;
  EXPECT_TRUE(r->refused_with("wasi:sockets: tcp-socket.create refused: out-of-memory",
                              "(the instance holds 1 sockets and lookups, its max_sockets)"))
      << r->all_refused();
}

TEST(SocketsCapTest, UdpSocketPastTheCapIsRefusedAndTold) {
  WasiConfig config = loopback_grants();
  config.max_sockets = 1;
  auto r = run("p3-sockets-udp-sample-application", std::move(config));
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r)) << "the program should fail at the cap";
  EXPECT_TRUE(r->refused_with("wasi:sockets: udp-socket.create refused: out-of-memory",
                              "(the instance holds 1 sockets and lookups, its max_sockets)"))
      << r->all_refused();
}

// With room for the listener and the client, the connection the listener
// accepts is refused (closed at once, the listener goes on) and told; the
// program, which waits for it, fails (its call times out).
TEST(SocketsCapTest, AcceptPastTheCapIsRefusedAndTold) {
  WasiConfig config = loopback_grants();
  config.max_sockets = 2;
  auto r = run("p3-sockets-tcp-sample-application", std::move(config), std::chrono::seconds(3));
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r)) << "the program should fail at the cap";
  EXPECT_TRUE(r->refused_with("wasi:sockets: TCP accept refused: out-of-memory",
                              "(the instance holds 2 sockets and lookups, its max_sockets)"))
      << r->all_refused();
}

// Under the default cap the same program passes and nothing is refused.
TEST(SocketsCapTest, RoomEnoughRefusesNothing) {
  auto r = run("p3-sockets-tcp-sample-application", loopback_grants());
  ASSERT_TRUE(r);
  EXPECT_FALSE(failed(*r)) << r->stderr_text;
  EXPECT_TRUE(r->refused.empty()) << r->all_refused();
}

// A lookup counts as one while it runs: with no room, a granted name is
// refused before any resolver runs.
TEST(SocketsCapTest, LookupPastTheCapIsRefusedAndTold) {
  WasiConfig config;
  config.sockets.name_lookups = {"localhost", "example.com"};
  config.max_sockets = 0;
  auto r = run("p3-sockets-ip-name-lookup", std::move(config));
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r));
  EXPECT_TRUE(r->refused_with("wasi:sockets: resolve-addresses of `",
                              "refused: other (the instance holds 0 sockets and lookups, its max_sockets)"))
      << r->all_refused();
}

// One count for both versions: a 0.3 socket takes the room a 0.2 one would.
TEST(SocketsCapTest, SharedWithWasi02) {
  WasiConfig config;
  config.max_sockets = 2;
  std::vector<std::string> refused;
  config.on_refused = [&refused](const std::string& what) { refused.push_back(what); };
  WasiCtx ctx(std::move(config));
  ctx.p3_tcp_sockets.add(std::make_shared<p3::TcpSocket>());
  EXPECT_FALSE(refuse_new_socket(ctx, "create-tcp-socket"));
  ctx.p3_udp_sockets.add(std::make_shared<p3::UdpSocket>());
  auto no = refuse_new_socket(ctx, "create-tcp-socket");
  ASSERT_TRUE(no);
  EXPECT_EQ(*no, SocketErrorCode::kNewSocketLimit);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0],
            "wasi:sockets: create-tcp-socket refused: new-socket-limit (the instance holds 2 sockets and lookups)");
}

// Without a bind grant, the program's first bind (on loopback) is refused
// and told.
TEST(SocketsRefusedTest, UngrantedBindIsTold) {
  auto r = run("p3-sockets-tcp-bind", WasiConfig{});
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r));
  EXPECT_TRUE(r->refused_with("wasi:sockets: TCP bind ", " refused: access-denied (no grant allows it)"))
      << r->all_refused();
}

// Binds granted, connections not: the connect is refused and told, naming
// the address.
TEST(SocketsRefusedTest, UngrantedConnectIsTold) {
  WasiConfig config;
  config.sockets.bind.push_back(AddressRule{});
  auto r = run("p3-sockets-tcp-connect", std::move(config));
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r));
  EXPECT_TRUE(
      r->refused_with("wasi:sockets: TCP connect to 127.0.0.1:", " refused: access-denied (no grant allows it)"))
      << r->all_refused();
}

TEST(SocketsRefusedTest, UngrantedUdpSendIsTold) {
  WasiConfig config;
  config.sockets.bind.push_back(AddressRule{});
  auto r = run("p3-sockets-udp-send", std::move(config));
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r));
  EXPECT_TRUE(r->refused_with("wasi:sockets: UDP send to ", " refused: access-denied (no grant allows it)"))
      << r->all_refused();
}

TEST(SocketsRefusedTest, UngrantedLookupIsTold) {
  auto r = run("p3-sockets-ip-name-lookup", WasiConfig{});
  ASSERT_TRUE(r);
  EXPECT_TRUE(failed(*r));
  EXPECT_TRUE(r->refused_with("wasi:sockets: resolve-addresses of `",
                              "` refused: access-denied (not in the names granted for lookup)"))
      << r->all_refused();
}

}  // namespace
}  // namespace stratus::wasi::p2

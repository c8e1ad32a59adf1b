// wasi:sockets 0.3 against Wasmtime's own test programs for it
// (fixtures/jco/p3/sockets): each is a command that binds, listens,
// connects, sends and receives on loopback, checks the error codes of what
// it may not do and exits non-zero (a panic) when anything differs. They
// run with the grants they need: binds anywhere (they bind unspecified and
// unroutable addresses to see the errors), connections on loopback only.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "tests/support/component_file.h"
#include "wasi/p2/wasi.h"

namespace stratus::wasi::p2 {
namespace {

using Case = std::tuple<std::string, std::string>;  // engine, program

class SocketsFixtureTest : public ::testing::TestWithParam<Case> {};

TEST_P(SocketsFixtureTest, PassesOnLoopback) {
  const auto& [engine_name, program] = GetParam();
  engine::EngineOptions options;
  options.cache_dir = STRATUS_TEST_CACHE_DIR;
  auto engine = engine::make_engine(engine_name, options);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto component = testing::read_component(std::string(STRATUS_JCO_P3_SOCKETS) + "/" + program + ".wasm");
  ASSERT_TRUE(component.ok()) << component.error().message;

  WasiConfig config;
  config.args = {program};
  AddressRule loopback;
  loopback.host = AddressRule::Host::Loopback;
  config.sockets.connect.push_back(loopback);
  config.sockets.bind.push_back(AddressRule{});
  auto out = std::make_shared<CapturedOutput>();
  auto err = std::make_shared<CapturedOutput>();
  config.stdout_stream = out;
  config.stderr_stream = err;
  component::InstantiateOptions instantiate;
  instantiate.limits.call_timeout = std::chrono::seconds(60);
  instantiate.allow_sync_cancel_in_waitable_set = true;  // wit-bindgen's older async runtime, as `stratus run`
  auto outcome = run_command(**engine, *component, std::move(config), instantiate);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_FALSE(outcome->trap) << outcome->trap->message << "\nstderr: " << err->contents();
  EXPECT_EQ(outcome->exit_code, 0) << "stderr: " << err->contents();
}

// Without grants a bind is refused with the WIT's access-denied, which the
// program sees as an error value (and panics on), not a host failure.
TEST(SocketsGrantsTest, UngrantedBindIsAccessDenied) {
  engine::EngineOptions options;
  options.cache_dir = STRATUS_TEST_CACHE_DIR;
  auto engine = engine::make_engine("interp", options);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto component = testing::read_component(std::string(STRATUS_JCO_P3_SOCKETS) + "/p3-sockets-tcp-bind.wasm");
  ASSERT_TRUE(component.ok()) << component.error().message;
  WasiConfig config;
  auto err = std::make_shared<CapturedOutput>();
  config.stdout_stream = std::make_shared<CapturedOutput>();
  config.stderr_stream = err;
  component::InstantiateOptions instantiate;
  instantiate.allow_sync_cancel_in_waitable_set = true;
  auto outcome = run_command(**engine, *component, std::move(config), instantiate);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_NE(err->contents().find("ErrorCode::AccessDenied"), std::string::npos) << err->contents();
}

// All but p3-sockets-ip-name-lookup, which resolves public names through
// the machine's resolver (the tests reach loopback only).
const std::vector<std::string> kPrograms = {
    "p3-sockets-tcp-bind",
    "p3-sockets-tcp-connect",
    "p3-sockets-tcp-listen",
    "p3-sockets-tcp-sample-application",
    "p3-sockets-tcp-sockopts",
    "p3-sockets-tcp-states",
    "p3-sockets-tcp-streams",
    "p3-sockets-udp-bind",
    "p3-sockets-udp-connect",
    "p3-sockets-udp-receive",
    "p3-sockets-udp-sample-application",
    "p3-sockets-udp-send",
    "p3-sockets-udp-sockopts",
    "p3-sockets-udp-states",
};

INSTANTIATE_TEST_SUITE_P(Fixtures, SocketsFixtureTest,
                         ::testing::Combine(::testing::Values(std::string("interp"), std::string("aot")),
                                            ::testing::ValuesIn(kPrograms)),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
                           for (auto& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace stratus::wasi::p2

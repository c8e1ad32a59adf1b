// wasi:http/client@0.3.0 end to end, on both backends: a guest
// (components/http_fetch.wat) sends requests through the WASI 0.3 host to
// an upstream on 127.0.0.1 started here, streams a request body and its
// trailers out and a response body and its trailers in; and the error-codes
// it gets for a host not granted, a refused connection, a first byte that
// does not come in time and a body the server cuts short.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "tests/support/component_file.h"
#include "tests/support/http_upstream.h"
#include "wasi/p2/wasi.h"

namespace stratus::wasi::p3 {
namespace {

using component::Val;

// The error-code cases the guest reports (as 1000 + case).
constexpr uint32_t kConnectionRefused = 1006;
constexpr uint32_t kConnectionReadTimeout = 1009;
constexpr uint32_t kHttpRequestDenied = 1015;
constexpr uint32_t kHttpResponseIncomplete = 1025;

// What `fetch` returned: status (or 1000 + error case), body bytes, their
// sum, trailers (0 none, 1 with x-checksum, 2 without, 1000 + error case).
struct Fetched {
  uint32_t status = 0, bytes = 0, sum = 0, trailers = 0;
};

uint32_t pattern_sum(uint32_t n) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += i & 0xff;
  return sum;
}

uint32_t byte_sum(const std::string& s) {
  uint32_t sum = 0;
  for (unsigned char c : s) sum += c;
  return sum;
}

class HttpClientTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    auto made = engine::make_engine(GetParam(), options);
    ASSERT_TRUE(made.ok()) << made.error().message;
    engine_ = std::move(made).value();
    auto component = testing::read_component(STRATUS_HTTP_FETCH_COMPONENT);
    ASSERT_TRUE(component.ok()) << component.error().message;
    component_ = *component;
  }

  // One call of `fetch` in a fresh instance granted `allowed`.
  Fetched fetch(const std::string& authority, const std::string& path, uint32_t body_len = 0,
                uint32_t first_byte_timeout_ms = 0, std::vector<std::string> allowed = {"127.0.0.1"}) {
    p2::WasiConfig config;
    config.allowed_hosts = std::move(allowed);
    p2::WasiHost wasi(config);
    component::Linker linker(*engine_);
    auto defined = wasi.add_to_linker(linker);
    EXPECT_TRUE(defined.ok()) << defined.error().message;
    component::InstantiateOptions options;
    options.limits.call_timeout = std::chrono::seconds(30);
    auto instance = linker.instantiate(component_, options);
    EXPECT_TRUE(instance.ok()) << instance.error().message;
    if (!instance.ok()) return {};
    auto outcome = (*instance)->call("fetch", std::vector<Val>{Val::string(authority), Val::string(path),
                                                               Val::u32(body_len), Val::u32(first_byte_timeout_ms)});
    EXPECT_FALSE(outcome.trapped()) << outcome.trap().message;
    EXPECT_FALSE(outcome.failed()) << outcome.error().message;
    if (outcome.trapped() || outcome.failed() || !outcome.result()) return {};
    const auto& items = outcome.result()->items();
    if (items.size() != 4) return {};
    return Fetched{static_cast<uint32_t>(items[0].as_unsigned()), static_cast<uint32_t>(items[1].as_unsigned()),
                   static_cast<uint32_t>(items[2].as_unsigned()), static_cast<uint32_t>(items[3].as_unsigned())};
  }

  std::unique_ptr<engine::Engine> engine_;
  component::ComponentPtr component_;
  testing::Upstream upstream_;
};

TEST_P(HttpClientTest, AGetComesBackWithItsBody) {
  auto got = fetch(upstream_.authority(), "/hello");
  std::string body = "hello from upstream\n";
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.bytes, body.size());
  EXPECT_EQ(got.sum, byte_sum(body));
  EXPECT_EQ(got.trailers, 0u);
  EXPECT_EQ(upstream_.last().method, "GET");
  EXPECT_EQ(upstream_.last().host, upstream_.authority());
}

// 1 MiB out (chunked, more than the window between the guest and the
// connection, so the guest waits for the connection) and back; the
// request's trailer reaches the server.
TEST_P(HttpClientTest, ABodyStreamsOutAndBackWithTheRequestTrailer) {
  constexpr uint32_t kSize = 1 << 20;
  auto got = fetch(upstream_.authority(), "/echo", kSize);
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.bytes, kSize);
  EXPECT_EQ(got.sum, pattern_sum(kSize));
  auto seen = upstream_.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body_size, kSize);
  EXPECT_EQ(seen.trailer, "yes");
}

TEST_P(HttpClientTest, ResponseTrailersReachTheGuest) {
  auto got = fetch(upstream_.authority(), "/trailers");
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.sum, byte_sum("hello"));
  EXPECT_EQ(got.trailers, 1u);
}

TEST_P(HttpClientTest, AHostNotGrantedIsDenied) {
  auto got = fetch(upstream_.authority(), "/hello", 0, 0, {"example.com"});
  EXPECT_EQ(got.status, kHttpRequestDenied);
  EXPECT_EQ(upstream_.connections(), 0u);
}

TEST_P(HttpClientTest, ARefusedConnectionIsConnectionRefused) {
  auto got = fetch("127.0.0.1:" + std::to_string(testing::closed_port()), "/hello");
  EXPECT_EQ(got.status, kConnectionRefused);
}

TEST_P(HttpClientTest, AFirstByteTooLateIsAReadTimeout) {
  auto started = std::chrono::steady_clock::now();
  auto got = fetch(upstream_.authority(), "/never", 0, 300);
  EXPECT_EQ(got.status, kConnectionReadTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

// The server promises 100 bytes, sends 10 and closes: the guest reads the
// 10, and the trailers future says the response was incomplete.
TEST_P(HttpClientTest, ABodyCutShortEndsWithResponseIncomplete) {
  auto got = fetch(upstream_.authority(), "/cut");
  EXPECT_EQ(got.status, 200u);
  EXPECT_EQ(got.bytes, 10u);
  EXPECT_EQ(got.sum, byte_sum("0123456789"));
  EXPECT_EQ(got.trailers, kHttpResponseIncomplete);
}

INSTANTIATE_TEST_SUITE_P(Backends, HttpClientTest, ::testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::wasi::p3

// Generated host bindings of async functions, streams, futures and error
// contexts (`stratus bindgen --host` of host_async.wit), implemented in C++
// and called by the runtime's host_async test component on both backends:
// replies that come later (a timer, a stream read to its end), a reply the
// host never gives, and values of every async kind converted both ways.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <numeric>

#include "async_host.h"
#include "component/binary/decoder.h"
#include "engine/engine.h"
#include "support/file.h"

namespace stratus::wit {
namespace {

using component::CopyResult;
using component::HostElements;
using Clock = std::chrono::steady_clock;

struct World final : ::root_world::Host {
  void sleep(const uint32_t& ms, Reply<uint32_t> reply) override {
    reply.reactor().at(Clock::now() + std::chrono::milliseconds(ms), [reply, ms] { reply(2 * ms); });
  }
  void consume(const Stream<uint8_t>& s, Reply<uint32_t> reply) override {
    auto end = s.reader();
    ASSERT_TRUE(end.ok()) << end.error().message;
    auto reader = std::make_shared<component::HostReadEnd>(std::move(*end));
    auto sum = std::make_shared<uint32_t>(0);
    read_all(reader, sum, reply);
  }
  void forget(Reply<uint32_t>) override {}

  void read_all(const std::shared_ptr<component::HostReadEnd>& reader, const std::shared_ptr<uint32_t>& sum,
                const Reply<uint32_t>& reply) {
    auto ok = reader->read(64, [this, reader, sum, reply](CopyResult r, HostElements got) {
      *sum = std::accumulate(got.bytes.begin(), got.bytes.end(), *sum);
      reads += 1;
      if (r == CopyResult::Completed) {
        read_all(reader, sum, reply);
      } else {
        reader->drop();
        reply(*sum);
      }
    });
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  }
  int reads = 0;
};

namespace files = ::test::host_async::files;

// The interface of every async kind: compiled and converted, not called by
// the component (which does not import it).
struct Files final : files::Host {
  HostResult<WitResult<Stream<uint8_t>, ErrorContext>> open(const std::string& name) override {
    if (name.empty()) return WitResult<Stream<uint8_t>, ErrorContext>::err(ErrorContext::make("no name"));
    auto [writer, stream] = Stream<uint8_t>::make();
    writers.push_back(std::move(writer));
    return WitResult<Stream<uint8_t>, ErrorContext>::ok(stream);
  }
  void watch(const Stream<files::Chunk>&, const Future<Unit>&,
             Reply<Future<WitResult<uint32_t, std::string>>> reply) override {
    auto [writer, future] = Future<WitResult<uint32_t, std::string>>::make();
    writers.push_back(std::move(writer));
    reply(future);
  }
  HostResult<Stream<Unit>> ticks() override { return Stream<Unit>::make().second; }
  std::vector<component::HostWriteEnd> writers;
};

uint32_t sum_of_pattern(uint32_t n) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += i & 0xff;
  return sum;
}

class AsyncHostBindingsTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<component::Linker>(*engine_);
    ASSERT_TRUE(::root_world::define(*linker_, world_, resources_).ok());
    ASSERT_TRUE(files::define(*linker_, files_, resources_).ok());
    auto bytes = read_file(STRATUS_HOST_ASYNC_COMPONENT);
    ASSERT_TRUE(bytes.ok()) << STRATUS_HOST_ASYNC_COMPONENT;
    auto component = component::decode_component(*bytes);
    ASSERT_TRUE(component.ok()) << component.error().message;
    auto made = linker_->instantiate(*component);
    ASSERT_TRUE(made.ok()) << made.error().message;
    instance_ = *made;
  }

  component::CallOutcome call(const std::string& name, std::vector<component::Val> args) {
    return instance_->call(name, args);
  }

  World world_;
  Files files_;
  HostResources resources_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<component::Linker> linker_;
  std::shared_ptr<component::ComponentInstance> instance_;
};

TEST_P(AsyncHostBindingsTest, RepliesComeLaterWithoutHoldingTheThread) {
  auto start = Clock::now();
  auto r = call("sleep-two", {component::Val::u32(200), component::Val::u32(150)});
  ASSERT_TRUE(r.returned()) << (r.trapped() ? r.trap().message : r.error().message);
  EXPECT_EQ(r.result()->as_unsigned(), 700u);
  auto took = Clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::milliseconds(330));  // at once, not one after the other (350)
}

TEST_P(AsyncHostBindingsTest, AStreamParameterIsReadToItsEnd) {
  auto r = call("feed", {component::Val::u32(3000)});
  ASSERT_TRUE(r.returned()) << (r.trapped() ? r.trap().message : r.error().message);
  EXPECT_EQ(r.result()->as_unsigned(), sum_of_pattern(3000));
  EXPECT_GE(world_.reads, 47);  // 3000 bytes, 64 at a time
}

TEST_P(AsyncHostBindingsTest, AReplyNeverGivenTrapsTheCaller) {
  auto r = call("forget-call", {});
  ASSERT_TRUE(r.trapped());
  EXPECT_NE(r.trap().message.find("`forget` dropped its call without ending it"), std::string::npos)
      << r.trap().message;
}

TEST(AsyncHostTypes, ConvertBothWays) {
  HostResources resources;
  HostResourcesScope scope(&resources);
  Files f;
  auto opened = f.open("x");
  ASSERT_FALSE(opened.trapped());
  component::Val v = to_val(opened.value());
  EXPECT_EQ(v.payload()->kind(), component::ValKind::Stream);
  WitResult<Stream<uint8_t>, ErrorContext> back;
  from_val(v, back);
  ASSERT_TRUE(back.is_ok());
  EXPECT_TRUE(back.value().reader().ok());
  auto failed = f.open("");
  component::Val e = to_val(failed.value());
  WitResult<Stream<uint8_t>, ErrorContext> err;
  from_val(e, err);
  ASSERT_FALSE(err.is_ok());
  EXPECT_EQ(err.error().debug_message(), "no name");
}

INSTANTIATE_TEST_SUITE_P(Backends, AsyncHostBindingsTest, testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::wit

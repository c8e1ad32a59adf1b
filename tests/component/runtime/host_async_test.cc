// The host's side of the async Component Model, on both engine backends:
// async host functions that end later (on a timer of the store's reactor
// or from another thread), cancelled by the guest; and streams and futures
// whose other end is the host, with backpressure both ways.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "component/binary/decoder.h"
#include "component/runtime/host_async.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"

namespace stratus::component {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

FuncTypePtr async_func(std::vector<Field> params, std::optional<ValType> result) {
  auto t = std::make_shared<FuncType>();
  t->params = std::move(params);
  t->result = std::move(result);
  t->async = true;
  return t;
}

ValType stream_u8() { return make_type(StreamType{ValType(PrimType::U8)}); }

uint32_t pattern_sum(uint32_t n) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += i & 0xff;
  return sum;
}

// Reads a host end to its end: the bytes, and how many reads it took.
struct Drain {
  std::vector<uint8_t> bytes;
  int reads = 0;
  bool ended = false;
  static void start(const std::shared_ptr<Drain>& d, HostReadEnd end, uint32_t chunk) {
    auto e = std::make_shared<HostReadEnd>(std::move(end));
    auto next = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weak_next = next;
    *next = [d, e, chunk, weak_next, keep = next]() mutable {
      auto self = weak_next.lock();
      auto ok = e->read(chunk, [d, e, self](CopyResult r, HostElements got) {
        d->reads += 1;
        d->bytes.insert(d->bytes.end(), got.bytes.begin(), got.bytes.end());
        if (r == CopyResult::Completed) {
          (*self)();
        } else {
          d->ended = true;
          e->drop();
        }
      });
      keep.reset();  // the pending read holds the chain from here on
      EXPECT_TRUE(ok.ok()) << ok.error().message;
    };
    (*next)();
  }
};

// Writes all of `bytes` to a host end, as much as the reader takes each
// time, then drops it.
void write_all(const std::shared_ptr<HostWriteEnd>& end, std::shared_ptr<std::vector<uint8_t>> bytes, size_t from,
               std::shared_ptr<int> writes) {
  if (from == bytes->size()) {
    end->drop();
    return;
  }
  auto rest = std::span<const uint8_t>(*bytes).subspan(from);
  auto ok = end->write(HostElements::of_bytes(rest), [end, bytes, from, writes](CopyResult r, uint32_t n) {
    *writes += 1;
    if (r == CopyResult::Completed) write_all(end, bytes, from + n, writes);
  });
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

class HostAsyncTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<Linker>(*engine_);
    // sleep(ms) -> 2 * ms: even ms on a timer of the reactor, odd ms on a
    // thread of its own that posts the result back; cancellable.
    HostFunc sleep;
    sleep.type = async_func({Field{"ms", PrimType::U32}}, ValType(PrimType::U32));
    sleep.async_callback = [this](CallContext& cx, std::vector<Val> args, std::shared_ptr<HostCall> call) {
      ASSERT_NE(cx.reactor, nullptr);
      auto ms = static_cast<uint32_t>(args[0].as_unsigned());
      auto result = Val::u32(2 * ms);
      if (ms % 2 == 0) {
        Reactor* reactor = &call->reactor();
        uint64_t timer = reactor->at(Clock::now() + milliseconds(ms), [call, result] { call->resolve(result); });
        call->on_cancel([reactor, timer, call] {
          if (reactor->cancel_timer(timer)) call->resolve_cancelled();
        });
      } else {
        auto poster = call->reactor().poster();
        threads_.emplace_back([poster, call, result, ms]() mutable {
          std::this_thread::sleep_for(milliseconds(ms));
          poster.post([call, result] { call->resolve(result); });
        });
      }
    };
    ASSERT_TRUE(linker_->define_func("sleep", sleep).ok());
    // consume(s) -> the sum of the stream's bytes, read 64 at a time.
    HostFunc consume;
    consume.type = async_func({Field{"s", stream_u8()}}, ValType(PrimType::U32));
    consume.async_callback = [this](CallContext&, std::vector<Val> args, std::shared_ptr<HostCall> call) {
      auto end = HostReadEnd::take(args[0]);
      ASSERT_TRUE(end.ok()) << end.error().message;
      auto drain = std::make_shared<Drain>();
      consumed_ = drain;
      Drain::start(drain, std::move(*end), 64);
      // Resolves once the stream ended: polled on a timer, so the test also
      // covers a host that waits on the guest and on time at once.
      auto poll = std::make_shared<std::function<void()>>();
      *poll = [drain, call, poll]() {
        if (drain->ended) {
          uint32_t sum = std::accumulate(drain->bytes.begin(), drain->bytes.end(), 0u);
          call->resolve(Val::u32(sum));
          *poll = nullptr;
          return;
        }
        call->reactor().at(Clock::now() + milliseconds(1), [poll] {
          if (*poll) (*poll)();
        });
      };
      (*poll)();
    };
    ASSERT_TRUE(linker_->define_func("consume", consume).ok());
    HostFunc forget;
    forget.type = async_func({}, ValType(PrimType::U32));
    forget.async_callback = [](CallContext&, std::vector<Val>, std::shared_ptr<HostCall>) {};
    ASSERT_TRUE(linker_->define_func("forget", forget).ok());

    auto bytes = read_file(std::string(STRATUS_COMPONENTS_DIR) + "/host_async.wasm");
    ASSERT_TRUE(bytes.ok());
    auto component = decode_component(*bytes);
    ASSERT_TRUE(component.ok()) << component.error().message;
    auto made = linker_->instantiate(*component);
    ASSERT_TRUE(made.ok()) << made.error().message;
    instance_ = *made;
  }

  void TearDown() override {
    for (auto& t : threads_) t.join();
  }

  uint32_t call_u32(const std::string& name, std::vector<Val> args) {
    auto outcome = instance_->call(name, args);
    EXPECT_TRUE(outcome.returned()) << name << ": "
                                    << (outcome.trapped() ? outcome.trap().message : outcome.error().message);
    if (!outcome.returned() || !outcome.result()) return 0;
    return static_cast<uint32_t>(outcome.result()->as_unsigned());
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Linker> linker_;
  std::shared_ptr<ComponentInstance> instance_;
  std::vector<std::thread> threads_;
  std::shared_ptr<Drain> consumed_;
};

TEST_P(HostAsyncTest, AsyncHostCallsRunConcurrentlyWithoutHoldingTheThread) {
  auto start = Clock::now();
  // A timer of 200 ms and a thread of 151 ms at once: about 200 ms, not 351
  // (the margin is for a loaded machine).
  EXPECT_EQ(call_u32("sleep-two", {Val::u32(200), Val::u32(151)}), 702u);
  auto took = Clock::now() - start;
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(330));
}

TEST_P(HostAsyncTest, ASyncLoweredCallOfAnAsyncHostFunctionBlocksItsCaller) {
  EXPECT_EQ(call_u32("sleep-sync", {Val::u32(10)}), 20u);
  EXPECT_EQ(call_u32("sleep-sync", {Val::u32(7)}), 14u);
  // A sync-typed export on its caller's stack waits for the host too.
  EXPECT_EQ(call_u32("sleep-sync-typed", {Val::u32(4)}), 8u);
  EXPECT_EQ(call_u32("sleep-sync-typed", {Val::u32(3)}), 6u);
}

TEST_P(HostAsyncTest, TheGuestCancelsAnAsyncHostCall) {
  auto start = Clock::now();
  EXPECT_EQ(call_u32("cancel-sleep", {}), 4u);  // CANCELLED_BEFORE_RETURNED
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
}

TEST_P(HostAsyncTest, TheHostWritesAStreamWithBackpressure) {
  auto [writer, readable] = HostWriteEnd::make_stream(ValType(PrimType::U8));
  auto bytes = std::make_shared<std::vector<uint8_t>>(1000);
  for (size_t i = 0; i < bytes->size(); ++i) (*bytes)[i] = static_cast<uint8_t>(i * 7);
  auto writes = std::make_shared<int>(0);
  write_all(std::make_shared<HostWriteEnd>(std::move(writer)), bytes, 0, writes);
  EXPECT_EQ(call_u32("sum-stream", {readable}), std::accumulate(bytes->begin(), bytes->end(), 0u));
  // The guest reads 100 at a time: the host's write went in ten pieces.
  EXPECT_EQ(*writes, 10);
}

TEST_P(HostAsyncTest, TheHostReadsAStreamTheGuestWritesAfterReturning) {
  auto outcome = instance_->call("produce", std::vector<Val>{Val::u32(1000)});
  ASSERT_TRUE(outcome.returned()) << (outcome.trapped() ? outcome.trap().message : outcome.error().message);
  auto end = HostReadEnd::take(*outcome.result());
  ASSERT_TRUE(end.ok()) << end.error().message;
  auto drain = std::make_shared<Drain>();
  Drain::start(drain, std::move(*end), 256);
  auto stopped = linker_->run_until([&] { return drain->ended; }, std::chrono::seconds(10));
  ASSERT_FALSE(stopped) << stopped->message;
  ASSERT_EQ(drain->bytes.size(), 1000u);
  for (size_t i = 0; i < drain->bytes.size(); ++i) ASSERT_EQ(drain->bytes[i], i & 0xff) << i;
  // The guest writes 100 at a time, each taken by one read of the host's.
  EXPECT_EQ(drain->reads, 11);  // ten pieces, then DROPPED
}

TEST_P(HostAsyncTest, AnAsyncHostFunctionReadsAStreamTheGuestPassesIt) {
  EXPECT_EQ(call_u32("feed", {Val::u32(5000)}), pattern_sum(5000));
  ASSERT_TRUE(consumed_);
  EXPECT_EQ(consumed_->bytes.size(), 5000u);
  EXPECT_GE(consumed_->reads, 50);  // 100-byte writes, 64-byte reads
}

TEST_P(HostAsyncTest, TheHostWritesAFutureLater) {
  auto [writer, readable] = HostWriteEnd::make_future(ValType(PrimType::U32));
  auto w = std::make_shared<HostWriteEnd>(std::move(writer));
  auto result = std::make_shared<std::optional<CopyResult>>();
  linker_->reactor().at(Clock::now() + milliseconds(5), [w, result] {
    uint32_t v = 42;
    auto ok = w->write(HostElements::of_bytes(std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&v), 4), 4),
                       [result](CopyResult r, uint32_t) { *result = r; });
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  });
  EXPECT_EQ(call_u32("await-future", {readable}), 42u);
  EXPECT_EQ(*result, CopyResult::Completed);
}

TEST_P(HostAsyncTest, AParkedCallLeavesTheEngineToOtherThreads) {
  // While the guest waits for the future (its fiber parked inside a host
  // call), another thread compiles a module on the same engine: it must not
  // wait for the parked call (the interpreter's store lock is the stack's,
  // let go while it is parked). The future is written once that compile is
  // done, or after 5 s if it never gets through.
  static const uint8_t kEmptyModule[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  auto [writer, readable] = HostWriteEnd::make_future(ValType(PrimType::U32));
  auto w = std::make_shared<HostWriteEnd>(std::move(writer));
  auto compiled = std::make_shared<std::atomic<bool>>(false);
  engine::Engine* engine = engine_.get();
  linker_->reactor().at(Clock::now() + milliseconds(5), [this, engine, compiled] {
    threads_.emplace_back([engine, compiled] {
      EXPECT_TRUE(engine->compile(kEmptyModule).ok());
      compiled->store(true);
    });
  });
  auto write_when_compiled = std::make_shared<std::function<void()>>();
  auto deadline = Clock::now() + std::chrono::seconds(5);
  *write_when_compiled = [this, w, compiled, deadline, weak = std::weak_ptr(write_when_compiled)] {
    if (!compiled->load() && Clock::now() < deadline) {
      linker_->reactor().at(Clock::now() + milliseconds(5), [weak] {
        if (auto next = weak.lock()) (*next)();
      });
      return;
    }
    uint32_t v = compiled->load() ? 1 : 0;
    auto ok = w->write(HostElements::of_bytes(std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&v), 4), 4),
                       [](CopyResult, uint32_t) {});
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  };
  linker_->reactor().at(Clock::now() + milliseconds(10), [write_when_compiled] { (*write_when_compiled)(); });
  EXPECT_EQ(call_u32("await-future", {readable}), 1u) << "the other thread's compile waited for the parked call";
}

TEST_P(HostAsyncTest, AHostThatDropsItsCallTrapsTheCallerNotTheHost) {
  auto outcome = instance_->call("forget-call", {});
  ASSERT_TRUE(outcome.trapped());
  EXPECT_NE(outcome.trap().message.find("host function `forget` dropped its call without ending it"), std::string::npos)
      << outcome.trap().message;
}

TEST_P(HostAsyncTest, ErrorContextsPassBetweenHostAndGuest) {
  auto outcome = instance_->call("echo-ec", std::vector<Val>{make_error_context("boom")});
  ASSERT_TRUE(outcome.returned()) << (outcome.trapped() ? outcome.trap().message : outcome.error().message);
  EXPECT_EQ(error_context_message(*outcome.result()), "boom");
}

TEST_P(HostAsyncTest, HostEndsRefuseMisuse) {
  auto [writer, readable] = HostWriteEnd::make_future(ValType(PrimType::U32));
  EXPECT_FALSE(writer.write(HostElements::of_count(2), nullptr).ok());
  EXPECT_FALSE(writer.write(HostElements::of_bytes(std::vector<uint8_t>{1, 2}, 4), nullptr).ok());
  EXPECT_FALSE(HostReadEnd::take(Val::u32(1)).ok());
  auto reader = HostReadEnd::take(readable);
  ASSERT_TRUE(reader.ok());
  std::optional<CopyResult> read;
  HostElements got;
  ASSERT_TRUE(reader
                  ->read(1,
                         [&](CopyResult r, HostElements e) {
                           read = r;
                           got = std::move(e);
                         })
                  .ok());
  EXPECT_FALSE(reader->read(1, [](CopyResult, HostElements) {}).ok());  // one at a time
  // Host to host: the write meets the pending read at once.
  uint32_t v = 7;
  std::optional<CopyResult> wrote;
  ASSERT_TRUE(writer
                  .write(HostElements::of_bytes(std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&v), 4), 4),
                         [&](CopyResult r, uint32_t) { wrote = r; })
                  .ok());
  EXPECT_EQ(wrote, CopyResult::Completed);
  EXPECT_EQ(read, CopyResult::Completed);
  EXPECT_EQ(got.count, 1u);
  EXPECT_EQ(got.bytes, (std::vector<uint8_t>{7, 0, 0, 0}));
}

INSTANTIATE_TEST_SUITE_P(Backends, HostAsyncTest, testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::component

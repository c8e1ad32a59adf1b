// Async components built by real toolchains (fixtures/jco/p3/general:
// wit-bindgen's async runtime tests, in Rust) that need only the Component
// Model and the WASI 0.2 subset of the test host: tasks talking through
// streams and futures inside one component, and caller/callee pairs linked
// by the host (post-return work, borrows across tasks, streams and futures
// of strings passed both ways), on both engine backends.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/host_async.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "test_host.h"

namespace stratus::test {
namespace {

using component::CallOutcome;
using component::CopyResult;
using component::HostElements;
using component::HostReadEnd;
using component::HostWriteEnd;
using component::Val;
using Clock = std::chrono::steady_clock;

Val bytes_val(const std::vector<uint8_t>& bytes) {
  std::vector<Val> items;
  for (uint8_t b : bytes) items.push_back(Val::u8(b));
  return Val::list(std::move(items));
}

std::vector<uint8_t> bytes_of(const Val& list) {
  std::vector<uint8_t> out;
  for (const auto& v : list.items()) out.push_back(static_cast<uint8_t>(v.as_unsigned()));
  return out;
}

// The host's side of Wasmtime's producers and consumers in these tests:
// after a delay, all at once, then the end is dropped (the guest sees its
// copy end DROPPED with the count).
struct HostSide {
  std::optional<CopyResult> wrote, read;
  uint32_t written = 0;
  std::vector<uint8_t> received;
  std::vector<Val> received_values;

  // Writes `elements` to `end` `delay` from now, again and again until
  // the reader took them all (it may take fewer each time), then drops it.
  void write_later(component::Reactor& reactor, Clock::duration delay, HostWriteEnd end, HostElements elements) {
    auto e = std::make_shared<HostWriteEnd>(std::move(end));
    auto data = std::make_shared<HostElements>(std::move(elements));
    reactor.at(Clock::now() + delay, [this, e, data] { write_rest(e, data, 0); });
  }
  void write_rest(const std::shared_ptr<HostWriteEnd>& e, const std::shared_ptr<HostElements>& data, uint32_t from) {
    HostElements rest;
    rest.count = data->count - from;
    if (!data->values.empty()) rest.values.assign(data->values.begin() + from, data->values.end());
    if (!data->bytes.empty()) {
      size_t size = data->bytes.size() / data->count;
      rest.bytes.assign(data->bytes.begin() + static_cast<std::ptrdiff_t>(from * size), data->bytes.end());
    }
    auto ok = e->write(std::move(rest), [this, e, data, from](CopyResult r, uint32_t n) {
      written += n;
      if (r == CopyResult::Completed && from + n < data->count) {
        write_rest(e, data, from + n);
        return;
      }
      wrote = r;
      e->drop();
    });
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  }
  // Reads up to `max` from `end` `delay` from now, then drops it; a read
  // that gets nothing (a zero-length write) reads again.
  void read_later(component::Reactor& reactor, Clock::duration delay, HostReadEnd end, uint32_t max) {
    auto e = std::make_shared<HostReadEnd>(std::move(end));
    reactor.at(Clock::now() + delay, [this, e, max] { read_from(e, max); });
  }
  void read_from(const std::shared_ptr<HostReadEnd>& e, uint32_t max) {
    auto ok = e->read(max, [this, e, max](CopyResult r, HostElements got) {
      if (r == CopyResult::Completed && got.count == 0) {
        read_from(e, max);
        return;
      }
      read = r;
      received.insert(received.end(), got.bytes.begin(), got.bytes.end());
      for (auto& v : got.values) received_values.push_back(std::move(v));
      e->drop();
    });
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  }
};

class P3GeneralTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<component::Linker>(*engine_);
    host_.add_wasi();
  }

  component::ComponentPtr load(const std::string& name) {
    auto bytes = read_file(std::string(STRATUS_JCO_P3_FIXTURES) + "/general/" + name + ".wasm");
    EXPECT_TRUE(bytes.ok()) << name << ": " << (bytes.ok() ? "" : bytes.error().message);
    if (!bytes.ok()) return nullptr;
    auto c = component::decode_component(*bytes);
    EXPECT_TRUE(c.ok()) << name << ": " << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : nullptr;
  }

  // Instantiates `name`, its imports from the host (those an earlier
  // component took from it already, and those in `from_components`, are
  // left to the linker as they are).
  std::shared_ptr<component::ComponentInstance> start(const std::string& name,
                                                      const component::InstantiateOptions& options = {}) {
    auto c = load(name);
    if (c == nullptr) return nullptr;
    auto defined = host_.define_imports(*linker_, *c);
    EXPECT_TRUE(defined.ok()) << name << ": " << (defined.ok() ? "" : defined.error().message);
    for (const auto& import : c->type->imports) host_.skip(import.name);
    auto instance = linker_->instantiate(c, options);
    EXPECT_TRUE(instance.ok()) << name << ": " << (instance.ok() ? "" : instance.error().message);
    return instance.ok() ? *instance : nullptr;
  }

  // A callee whose exports the next component's imports bind to.
  bool start_callee(const std::string& name, std::initializer_list<const char*> exported,
                    const component::InstantiateOptions& options = {}) {
    auto callee = start(name, options);
    if (callee == nullptr) return false;
    for (const char* e : exported) host_.skip(e);
    auto ok = linker_->define_exports(callee);
    EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message);
    callees_.push_back(callee);
    return ok.ok();
  }

  std::string describe(const CallOutcome& r) {
    return (r.trapped()  ? "trap: " + r.trap().message
            : r.failed() ? "error: " + r.error().message
                         : "returned") +
           "\nstdout: " + host_.stdout_text() + "\nstderr: " + host_.stderr_text();
  }

  // Declared first, gone last: the host's callbacks hold them while the
  // instances (and their pending copies) go away.
  std::deque<HostSide> sides_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<component::Linker> linker_;
  TestHost host_;
  std::vector<std::shared_ptr<component::ComponentInstance>> callees_;
};

TEST_P(P3GeneralTest, TasksOfOneComponentTalkThroughStreamsAndFutures) {
  // Two calls at once: the first waits on a waitable set the second finds
  // (through the component's globals) and wakes with a future's event.
  auto instance = start("async-intertask-communication");
  ASSERT_NE(instance, nullptr);
  std::vector<std::vector<Val>> two(2);
  auto rs = instance->call_concurrent("local:local/run#run", two);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].returned()) << describe(rs[0]);
  EXPECT_TRUE(rs[1].returned()) << describe(rs[1]);
  // Called alone, the first waits for ever: the host says so.
  auto alone = linker_->instantiate(load("async-intertask-communication"));
  ASSERT_TRUE(alone.ok());
  auto r = (*alone)->call("local:local/run#run", {});
  ASSERT_TRUE(r.trapped());
  EXPECT_NE(r.trap().message.find("deadlock detected"), std::string::npos) << r.trap().message;
}

TEST_P(P3GeneralTest, ACalleeKeepsWorkingAfterItReturned) {
  ASSERT_TRUE(start_callee("async-post-return-callee", {"local:local/post-return"}));
  auto caller = start("async-post-return-caller");
  ASSERT_NE(caller, nullptr);
  auto r = caller->call("local:local/run#run", {});
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(P3GeneralTest, AnOlderToolchainsSyncCancelOfAStreamInAWaitableSetTraps) {
  // This fixture's wit-bindgen (0.58) cancels a stream read synchronously
  // while the stream is in a waitable set, which the spec now traps
  // (CanonicalABI.md cancel_copy; async/trap-if-sync-and-waitable-set.wast
  // tests it). Everything before that point ran.
  ASSERT_TRUE(start_callee("async-transmit-callee", {"local:local/transmit"}));
  auto caller = start("async-transmit-caller");
  ASSERT_NE(caller, nullptr);
  auto r = caller->call("local:local/run#run", {});
  ASSERT_TRUE(r.trapped()) << describe(r);
  EXPECT_EQ(r.trap().message,
            "waitable cannot be used synchronously while added to a waitable set (in `canon stream.cancel-read`)");
}

// What `stratus run` and `serve` allow (InstantiateOptions): the pair then
// runs to its end, every check of the caller's passing.
component::InstantiateOptions older_toolchains() {
  component::InstantiateOptions o;
  o.allow_sync_cancel_in_waitable_set = true;
  return o;
}

TEST_P(P3GeneralTest, TheTransmitPairRunsToItsEndWhenOlderToolchainsAreAllowed) {
  ASSERT_TRUE(start_callee("async-transmit-callee", {"local:local/transmit"}, older_toolchains()));
  auto caller = start("async-transmit-caller", older_toolchains());
  ASSERT_NE(caller, nullptr);
  auto r = caller->call("local:local/run#run", {});
  EXPECT_TRUE(r.returned()) << describe(r);
}

TEST_P(P3GeneralTest, BorrowsLentToATaskMustBeGivenBackBeforeItEnds) {
  uint32_t next = 1;
  host_.implement(
      "local:local/borrowing-types#[constructor]x",
      [this, &next](component::CallContext&, std::span<const Val>) -> std::variant<std::optional<Val>, engine::Trap> {
        return std::optional<Val>(host_.own("local:local/borrowing-types", "x", next++));
      });
  host_.implement("local:local/borrowing-types#[method]x.foo",
                  [](component::CallContext&, std::span<const Val>) -> std::variant<std::optional<Val>, engine::Trap> {
                    return std::optional<Val>();
                  });
  ASSERT_TRUE(start_callee("async-borrowing-callee", {"local:local/borrowing"}));
  auto caller = start("async-borrowing-caller");
  ASSERT_NE(caller, nullptr);
  std::vector<Val> well = {Val::boolean(false)};
  auto r = caller->call("local:local/run-bool#run", well);
  EXPECT_TRUE(r.returned()) << describe(r);
  // The callee keeps the borrow past its task: a trap.
  auto caller2 = linker_->instantiate(load("async-borrowing-caller"));
  ASSERT_TRUE(caller2.ok()) << caller2.error().message;
  std::vector<Val> ill = {Val::boolean(true)};
  auto bad = (*caller2)->call("local:local/run-bool#run", ill);
  EXPECT_TRUE(bad.trapped()) << describe(bad);
}

// fixtures/jco/p3/{context,backpressure}-sync: sync exports over the
// built-ins.
TEST_P(P3GeneralTest, ContextIsPerCallAndBackpressureCounts) {
  auto load_p3 = [&](const std::string& name) -> std::shared_ptr<component::ComponentInstance> {
    auto bytes = read_file(std::string(STRATUS_JCO_P3_FIXTURES) + "/" + name + "/component.wasm");
    EXPECT_TRUE(bytes.ok());
    if (!bytes.ok()) return nullptr;
    auto c = component::decode_component(*bytes);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (!c.ok()) return nullptr;
    auto i = linker_->instantiate(*c);
    EXPECT_TRUE(i.ok()) << (i.ok() ? "" : i.error().message);
    return i.ok() ? *i : nullptr;
  };
  auto context = load_p3("context-sync");
  ASSERT_NE(context, nullptr);
  std::vector<Val> seven = {Val::u32(7)};
  auto pushed = context->call("push-context", seven);
  ASSERT_TRUE(pushed.returned()) << describe(pushed);
  EXPECT_EQ(pushed.result()->as_unsigned(), 7u);
  // Each call is a task of its own, on a thread whose storage starts at 0.
  auto pulled = context->call("pull-context", {});
  ASSERT_TRUE(pulled.returned()) << describe(pulled);
  EXPECT_EQ(pulled.result()->as_unsigned(), 0u);

  auto bp = load_p3("backpressure-sync");
  ASSERT_NE(bp, nullptr);
  EXPECT_TRUE(bp->call("inc-backpressure", {}).returned());
  EXPECT_TRUE(bp->call("inc-backpressure", {}).returned());
  EXPECT_TRUE(bp->call("dec-backpressure", {}).returned());
  EXPECT_TRUE(bp->call("dec-backpressure", {}).returned());
  auto under = bp->call("dec-backpressure", {});
  ASSERT_TRUE(under.trapped());
  EXPECT_NE(under.trap().message.find("backpressure counter underflow"), std::string::npos) << under.trap().message;
}

// The three below hand the host one end of each stream and future
// (Wasmtime's tests/scenario: the same producers and consumers, which give
// or take everything at once after a delay and then drop their end).

TEST_P(P3GeneralTest, ReadinessZeroLengthCopiesWaitForTheHost) {
  auto instance = start("async-readiness");
  ASSERT_NE(instance, nullptr);
  auto& reactor = linker_->reactor();
  auto [writer, readable] = HostWriteEnd::make_stream(component::ValType(component::PrimType::U8));
  HostSide& in = sides_.emplace_back();
  HostSide& out = sides_.emplace_back();
  std::vector<uint8_t> expected = {2, 4, 6, 8, 9};
  in.write_later(reactor, std::chrono::milliseconds(10), std::move(writer), HostElements::of_bytes(expected));
  auto r = instance->call("local:local/readiness#start", std::vector<Val>{readable, bytes_val(expected)});
  ASSERT_TRUE(r.returned()) << describe(r);
  const auto& items = r.result()->items();
  auto end = HostReadEnd::take(items[0]);
  ASSERT_TRUE(end.ok()) << end.error().message;
  std::vector<uint8_t> promised = bytes_of(items[1]);
  EXPECT_EQ(promised, (std::vector<uint8_t>{1, 3, 5, 7, 11}));
  out.read_later(reactor, std::chrono::milliseconds(10), std::move(*end), static_cast<uint32_t>(promised.size()));
  auto stopped = linker_->run_until([&] { return in.wrote && out.read; }, std::chrono::seconds(10));
  ASSERT_FALSE(stopped) << stopped->message << "\n" << describe(r);
  EXPECT_EQ(in.wrote, CopyResult::Completed);
  EXPECT_EQ(out.received, promised);
}

TEST_P(P3GeneralTest, ShortReadsOfAnOlderToolchainTrapAtItsSyncCancel) {
  // The guest reads the host's stream of resources one at a time. Its
  // wit-bindgen (0.58) runtime wakes a spawned task through a stream of its
  // own and cancels that stream's read synchronously while it is in a
  // waitable set: the spec traps that (as for the transmit pair above), at
  // the first wake-up, after the host handed over the first resource.
  auto instance = start("async-short-reads");
  ASSERT_NE(instance, nullptr);
  const std::string iface = "local:local/short-reads#";
  std::vector<Val> things;
  for (const char* s : {"a", "b", "c", "d", "e"}) {
    auto made = instance->call(iface + "[constructor]thing", std::vector<Val>{Val::string(s)});
    ASSERT_TRUE(made.returned()) << describe(made);
    things.push_back(*made.result());
  }
  // The element type, `own<thing>`, by the runtime resource type the
  // handles carry.
  auto element = component::make_type(component::OwnType{things[0].as_handle().resource, nullptr});
  auto [writer, readable] = HostWriteEnd::make_stream(element);
  HostSide& in = sides_.emplace_back();
  in.write_later(linker_->reactor(), std::chrono::milliseconds(0), std::move(writer), HostElements::of_values(things));
  auto r = instance->call(iface + "short-reads", std::vector<Val>{readable});
  ASSERT_TRUE(r.returned()) << describe(r);
  auto end = HostReadEnd::take(*r.result());
  ASSERT_TRUE(end.ok()) << end.error().message;
  auto stopped = linker_->run_until([] { return false; }, std::chrono::seconds(10));
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->message,
            "waitable cannot be used synchronously while added to a waitable set (in `canon stream.cancel-read`)");
  EXPECT_EQ(in.written, 1u);
}

TEST_P(P3GeneralTest, ShortReadsGiveUnreadResourcesBackWhenOlderToolchainsAreAllowed) {
  // The host reads the guest's stream of resources one at a time: each
  // short read leaves the rest with the guest, which offers them again.
  auto instance = start("async-short-reads", older_toolchains());
  ASSERT_NE(instance, nullptr);
  const std::string iface = "local:local/short-reads#";
  std::vector<std::string> strings = {"a", "b", "c", "d", "e"};
  std::vector<Val> things;
  for (const auto& str : strings) {
    auto made = instance->call(iface + "[constructor]thing", std::vector<Val>{Val::string(str)});
    ASSERT_TRUE(made.returned()) << describe(made);
    things.push_back(*made.result());
  }
  auto element = component::make_type(component::OwnType{things[0].as_handle().resource, nullptr});
  auto [writer, readable] = HostWriteEnd::make_stream(element);
  HostSide& in = sides_.emplace_back();
  in.write_later(linker_->reactor(), std::chrono::milliseconds(0), std::move(writer), HostElements::of_values(things));
  auto r = instance->call(iface + "short-reads", std::vector<Val>{readable});
  ASSERT_TRUE(r.returned()) << describe(r);
  auto end = HostReadEnd::take(*r.result());
  ASSERT_TRUE(end.ok()) << end.error().message;
  auto reader = std::make_shared<HostReadEnd>(std::move(*end));
  std::vector<Val> got;
  bool ended = false;
  std::function<void()> next = [&] {
    auto ok = reader->read(1, [&](CopyResult res, HostElements e) {
      for (auto& v : e.values) got.push_back(std::move(v));
      if (res == CopyResult::Completed && got.size() < strings.size()) {
        next();
      } else {
        ended = true;
        reader->drop();
      }
    });
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  };
  next();
  auto stopped = linker_->run_until([&] { return ended; }, std::chrono::seconds(10));
  ASSERT_FALSE(stopped) << stopped->message;
  EXPECT_EQ(in.written, strings.size());
  ASSERT_EQ(got.size(), strings.size());
  for (size_t i = 0; i < got.size(); ++i) {
    auto str = instance->call(iface + "[method]thing.get", std::vector<Val>{Val::borrow(got[i].as_handle())});
    ASSERT_TRUE(str.returned()) << describe(str);
    EXPECT_EQ(str.result()->as_string(), strings[i]);
  }
}

TEST_P(P3GeneralTest, SynchronousCopiesBlockUntilTheHostTakesOrGives) {
  auto instance = start("async-synchronous-transmit");
  ASSERT_NE(instance, nullptr);
  auto& reactor = linker_->reactor();
  auto [stream_writer, stream] = HostWriteEnd::make_stream(component::ValType(component::PrimType::U8));
  auto [future_writer, future] = HostWriteEnd::make_future(component::ValType(component::PrimType::U8));
  HostSide& in_stream = sides_.emplace_back();
  HostSide& in_future = sides_.emplace_back();
  HostSide& out_stream = sides_.emplace_back();
  HostSide& out_future = sides_.emplace_back();
  std::vector<uint8_t> expected = {2, 4, 6, 8, 9};
  in_stream.write_later(reactor, std::chrono::milliseconds(5), std::move(stream_writer),
                        HostElements::of_bytes(expected));
  in_future.write_later(reactor, std::chrono::milliseconds(5), std::move(future_writer),
                        HostElements::of_bytes(std::vector<uint8_t>{10}));
  auto r = instance->call("local:local/synchronous-transmit#start",
                          std::vector<Val>{stream, bytes_val(expected), future, Val::u8(10)});
  ASSERT_TRUE(r.returned()) << describe(r);
  const auto& items = r.result()->items();
  auto s = HostReadEnd::take(items[0]);
  auto f = HostReadEnd::take(items[2]);
  ASSERT_TRUE(s.ok() && f.ok());
  out_stream.read_later(reactor, std::chrono::milliseconds(5), std::move(*s), 5);
  out_future.read_later(reactor, std::chrono::milliseconds(5), std::move(*f), 1);
  auto stopped =
      linker_->run_until([&] { return in_stream.wrote && in_future.wrote && out_stream.read && out_future.read; },
                         std::chrono::seconds(10));
  ASSERT_FALSE(stopped) << stopped->message << "\n" << describe(r);
  EXPECT_EQ(out_stream.received, bytes_of(items[1]));
  EXPECT_EQ(out_future.received, std::vector<uint8_t>{static_cast<uint8_t>(items[3].as_unsigned())});
  EXPECT_EQ(out_future.read, CopyResult::Completed);
}

INSTANTIATE_TEST_SUITE_P(Backends, P3GeneralTest, testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::test

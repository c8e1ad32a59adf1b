// Generated host bindings against real components: the test interfaces of
// wit-bindgen's numbers, records and variants programs are implemented in
// C++ through the classes `stratus bindgen --host` generated at build time,
// and each component's `test-imports` export runs its own assertions on what
// the host returns (a wrong value traps with the guest's message). WASI comes
// from the test host.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include "component/binary/decoder.h"
#include "engine/engine.h"
#include "numbers_host.h"
#include "records_host.h"
#include "resource_import_and_export_host.h"
#include "support/file.h"
#include "test_host.h"
#include "variants_host.h"

namespace stratus::wit {
namespace {

template <class T>
using R = HostResult<T>;

struct Numbers final : ::test::numbers::test::Host {
  R<uint8_t> roundtrip_u8(const uint8_t& a) override { return static_cast<uint8_t>(a + u8_offset); }
  R<int8_t> roundtrip_s8(const int8_t& a) override { return a; }
  R<uint16_t> roundtrip_u16(const uint16_t& a) override { return a; }
  R<int16_t> roundtrip_s16(const int16_t& a) override { return a; }
  R<uint32_t> roundtrip_u32(const uint32_t& a) override { return a; }
  R<int32_t> roundtrip_s32(const int32_t& a) override { return a; }
  R<uint64_t> roundtrip_u64(const uint64_t& a) override { return a; }
  R<int64_t> roundtrip_s64(const int64_t& a) override { return a; }
  R<float> roundtrip_f32(const float& a) override { return a; }
  R<double> roundtrip_f64(const double& a) override { return a; }
  R<char32_t> roundtrip_char(const char32_t& a) override { return a; }
  R<Unit> set_scalar(const uint32_t& a) override {
    scalar = a;
    return Unit{};
  }
  R<uint32_t> get_scalar() override { return scalar; }
  uint32_t scalar = 0;
  uint8_t u8_offset = 0;  // a wrong answer, when not 0
};

namespace rec = ::test::records::test;
struct Records final : rec::Host {
  R<std::tuple<uint8_t, uint16_t>> multiple_results() override { return std::tuple<uint8_t, uint16_t>{4, 5}; }
  R<std::tuple<uint32_t, uint8_t>> swap_tuple(const std::tuple<uint8_t, uint32_t>& a) override {
    return std::tuple<uint32_t, uint8_t>{std::get<1>(a), std::get<0>(a)};
  }
  R<rec::F1> roundtrip_flags1(const rec::F1& a) override { return a; }
  R<rec::F2> roundtrip_flags2(const rec::F2& a) override { return a; }
  R<std::tuple<rec::Flag8, rec::Flag16, rec::Flag32>> roundtrip_flags3(const rec::Flag8& a, const rec::Flag16& b,
                                                                       const rec::Flag32& c) override {
    return std::tuple<rec::Flag8, rec::Flag16, rec::Flag32>{a, b, c};
  }
  R<rec::R1> roundtrip_record1(const rec::R1& a) override {
    records_seen.push_back(a);
    return a;
  }
  R<std::tuple<uint8_t>> tuple1(const std::tuple<uint8_t>& a) override { return a; }
  std::vector<rec::R1> records_seen;
};

namespace var = ::test::variants::test;
struct Variants final : var::Host {
  R<std::optional<uint8_t>> roundtrip_option(const std::optional<float>& a) override {
    if (!a) return std::optional<uint8_t>();
    return std::optional<uint8_t>(static_cast<uint8_t>(*a));
  }
  R<WitResult<double, uint8_t>> roundtrip_result(const WitResult<uint32_t, float>& a) override {
    if (a.is_ok()) return WitResult<double, uint8_t>::ok(static_cast<double>(a.value()));
    return WitResult<double, uint8_t>::err(static_cast<uint8_t>(a.error()));
  }
  R<var::E1> roundtrip_enum(const var::E1& a) override { return a; }
  R<bool> invert_bool(const bool& a) override { return !a; }
  R<var::Casts> variant_casts(const var::Casts& a) override { return a; }
  R<var::Zeros> variant_zeros(const var::Zeros& a) override { return a; }
  R<Unit> variant_typedefs(const var::OptionTypedef&, const var::BoolTypedef&, const var::ResultTypedef&) override {
    return Unit{};
  }
  R<std::tuple<bool, WitResult<Unit, Unit>, var::MyErrno>> variant_enums(const bool& a, const WitResult<Unit, Unit>& b,
                                                                         const var::MyErrno& c) override {
    // wit-bindgen's contract: called with (true, ok, success), answers (false, err, a).
    if (!a || !b.is_ok() || c != var::MyErrno::kSuccess)
      return engine::Trap{engine::TrapKind::Other, "variant-enums: unexpected arguments", 0};
    return std::tuple<bool, WitResult<Unit, Unit>, var::MyErrno>{false, WitResult<Unit, Unit>::err(Unit{}),
                                                                 var::MyErrno::kA};
  }
};

namespace res = ::test::resource_import_and_export::test;
// Host `thing`s: a value per rep; the guest wraps them in its own `thing`.
struct Things final : res::Host {
  R<res::Thing> thing_new(const uint32_t& v) override {
    log.push_back("new " + std::to_string(v));
    values[next] = v;
    return res::Thing{next++};
  }
  R<uint32_t> thing_foo(const res::ThingBorrow& self) override { return values.at(self.rep); }
  R<Unit> thing_bar(const res::ThingBorrow& self, const uint32_t& v) override {
    log.push_back("bar " + std::to_string(v));
    values.at(self.rep) = v;
    return Unit{};
  }
  R<res::Thing> thing_baz(const res::Thing& a, const res::Thing& b) override {
    // Owned handles: the host now owns a and b, and is done with them.
    uint32_t sum = values.at(a.rep) + values.at(b.rep);
    values.erase(a.rep);
    values.erase(b.rep);
    values[next] = sum;
    return res::Thing{next++};
  }
  void drop_thing(uint32_t rep) override {
    values.erase(rep);
    dropped.push_back(rep);
  }
  std::map<uint32_t, uint32_t> values;
  std::vector<std::string> log;
  std::vector<uint32_t> dropped;
  uint32_t next = 1;
};

// The world's own `toplevel-import: func(a: thing) -> thing`.
struct TopLevel final : ::root_world::Host {
  R<::root_world::Thing> toplevel_import(const ::root_world::Thing& a) override {
    ++calls;
    return a;
  }
  int calls = 0;
};

class HostBindingsTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<component::Linker>(*engine_);
    test_host_.add_wasi();
  }

  // Runs fixture NAME's `test-imports`, with `define` supplying its test interface.
  void run_test_imports(const std::string& name, const std::string& iface,
                        const std::function<Result<void>(component::Linker&, HostResources&)>& define) {
    auto instance = start(name, iface, define);
    ASSERT_NE(instance, nullptr);
    auto outcome = instance->call("test-imports", {});
    EXPECT_TRUE(outcome.returned()) << (outcome.trapped() ? outcome.trap().message : outcome.error().message)
                                    << "\nstderr: " << test_host_.stderr_text();
  }

  // Instantiates fixture NAME with `define` supplying one interface.
  std::shared_ptr<component::ComponentInstance> start(
      const std::string& name, const std::string& iface,
      const std::function<Result<void>(component::Linker&, HostResources&)>& define) {
    auto bytes = read_file(std::string(STRATUS_JCO_FIXTURES) + "/" + name + ".component.wasm");
    EXPECT_TRUE(bytes.ok());
    if (!bytes.ok()) return nullptr;
    auto c = component::decode_component(*bytes);
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return nullptr;
    auto defined = define(*linker_, resources_);
    EXPECT_TRUE(defined.ok()) << defined.error().message;
    test_host_.skip(iface);
    auto rest = test_host_.define_imports(*linker_, **c);
    EXPECT_TRUE(rest.ok()) << rest.error().message;
    auto instance = linker_->instantiate(*c);
    EXPECT_TRUE(instance.ok()) << instance.error().message;
    return instance.ok() ? *instance : nullptr;
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<component::Linker> linker_;
  stratus::test::TestHost test_host_;
  HostResources resources_;
};

TEST_P(HostBindingsTest, Numbers) {
  Numbers host;
  run_test_imports("numbers", "test:numbers/test",
                   [&](component::Linker& l, HostResources& r) { return ::test::numbers::test::define(l, host, r); });
  EXPECT_GE(host.scalar, 1u);  // the guest set it through the import
}

TEST_P(HostBindingsTest, Records) {
  Records host;
  run_test_imports("records", "test:records/test",
                   [&](component::Linker& l, HostResources& r) { return rec::define(l, host, r); });
  // wit-bindgen's records test sends {a: 8, b: (no flags)}, then {a: 0, b: a | b}.
  ASSERT_EQ(host.records_seen.size(), 2u);
  EXPECT_EQ(host.records_seen[0], (rec::R1{8, rec::F1{}}));
  EXPECT_EQ(host.records_seen[1], (rec::R1{0, rec::F1{true, true}}));
}

TEST_P(HostBindingsTest, Variants) {
  Variants host;
  run_test_imports("variants", "test:variants/test",
                   [&](component::Linker& l, HostResources& r) { return var::define(l, host, r); });
}

TEST_P(HostBindingsTest, AWrongAnswerIsCaughtByTheGuest) {
  // The same numbers host, off by one in a single function: the guest's own
  // assertion traps, so the tests above would catch a wrong conversion.
  Numbers host;
  host.u8_offset = 1;
  auto instance = start("numbers", "test:numbers/test", [&](component::Linker& l, HostResources& r) {
    return ::test::numbers::test::define(l, host, r);
  });
  ASSERT_NE(instance, nullptr);
  EXPECT_TRUE(instance->call("test-imports", {}).trapped());
}

TEST_P(HostBindingsTest, HostResourcesThroughAGuestThatWrapsThem) {
  // The guest exports its own `thing`, built on the host's (generated
  // constructor, methods, a static taking two owned handles, drop), adding
  // fixed offsets: new v+1, foo +2, bar v+3, baz foo+4.
  Things host;
  TopLevel top;
  const std::string iface = "test:resource-import-and-export/test";
  // The world imports `thing` (the interface's) and `toplevel-import` itself.
  test_host_.skip("thing");
  test_host_.skip("toplevel-import");
  auto instance =
      start("resource-import-and-export", iface, [&](component::Linker& l, HostResources& r) -> Result<void> {
        STRATUS_TRY(res::define(l, host, r));
        return ::root_world::define(l, top, r);
      });
  ASSERT_NE(instance, nullptr);
  auto call = [&](const std::string& f, std::vector<component::Val> args) {
    auto outcome = instance->call(iface + "#" + f, args);
    EXPECT_TRUE(outcome.returned()) << f << ": " << (outcome.trapped() ? outcome.trap().message : "");
    return outcome.returned() && outcome.result() ? *outcome.result() : component::Val();
  };
  auto a = call("[constructor]thing", {component::Val::u32(10)});
  EXPECT_EQ(call("[method]thing.foo", {component::Val::borrow(a.as_handle())}), component::Val::u32(10 + 1 + 2));
  call("[method]thing.bar", {component::Val::borrow(a.as_handle()), component::Val::u32(20)});
  EXPECT_EQ(call("[method]thing.foo", {component::Val::borrow(a.as_handle())}), component::Val::u32(20 + 3 + 2));
  auto b = call("[constructor]thing", {component::Val::u32(100)});
  auto c = call("[static]thing.baz", {a, b});
  EXPECT_EQ(call("[method]thing.foo", {component::Val::borrow(c.as_handle())}),
            component::Val::u32((23 + 101) + 4 + 1 + 2));
  EXPECT_EQ(host.log, (std::vector<std::string>{"new 11", "bar 23", "new 101", "new 129"}));
  // The guest dropped a host thing it held (through the generated
  // destructor), and only ones the host made.
  ASSERT_FALSE(host.dropped.empty());
  for (uint32_t rep : host.dropped) EXPECT_LT(rep, host.next);
  EXPECT_TRUE(instance->drop_resource(c.as_handle()).ok());

  // The world's export forwards to its import: a host thing goes out and
  // comes back through the generated world-level binding.
  auto mine = component::Val::own(component::ResourceRef{resources_.by_key(iface + "#thing"), 77});
  auto back = instance->call("toplevel-export", std::vector<component::Val>{mine});
  ASSERT_TRUE(back.returned()) << (back.trapped() ? back.trap().message : back.error().message);
  EXPECT_EQ(*back.result(), mine);
  EXPECT_EQ(top.calls, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostBindingsTest, testing::Values("interp", "aot"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace stratus::wit

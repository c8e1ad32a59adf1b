// The components under fixtures/jco/runtime, built by wit-bindgen and other
// real toolchains, run on both engine backends with host implementations of
// their imports (test_host.h): every exported test function must return
// without a trap, and give what its contract says.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "test_host.h"

namespace stratus::test {
namespace {

using component::CallOutcome;
using component::Val;

class JcoRuntimeTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.cache_dir = STRATUS_TEST_CACHE_DIR;
    engine_ = std::move(engine::make_engine(GetParam(), options)).value();
    linker_ = std::make_unique<component::Linker>(*engine_);
    host_.add_wasi();
  }

  // Loads fixtures/jco/runtime/NAME.component.wasm and instantiates it with
  // the host's implementations; false (with the failure reported) otherwise.
  bool start(const std::string& name) {
    auto bytes = read_file(std::string(STRATUS_JCO_FIXTURES) + "/" + name + ".component.wasm");
    if (!bytes.ok()) {
      ADD_FAILURE() << bytes.error().message;
      return false;
    }
    auto component = component::decode_component(*bytes);
    if (!component.ok()) {
      ADD_FAILURE() << name << ": " << component.error().message;
      return false;
    }
    auto defined = host_.define_imports(*linker_, **component);
    if (!defined.ok()) {
      ADD_FAILURE() << name << ": " << defined.error().message;
      return false;
    }
    auto instance = linker_->instantiate(*component);
    if (!instance.ok()) {
      ADD_FAILURE() << name << ": " << instance.error().message;
      return false;
    }
    instance_ = *instance;
    component_ = *component;
    return true;
  }

  // Calls an export and returns its result (a unit result as bool false);
  // a trap or error fails the test, with what the guest printed.
  Val call(const std::string& name, std::vector<Val> args = {}) {
    CallOutcome outcome = instance_->call(name, args);
    EXPECT_TRUE(outcome.returned()) << name << ": "
                                    << (outcome.trapped()  ? "trap: " + outcome.trap().message
                                        : outcome.failed() ? "error: " + outcome.error().message
                                                           : "")
                                    << "\nstdout: " << host_.stdout_text() << "\nstderr: " << host_.stderr_text();
    if (!outcome.returned() || !outcome.result()) return Val();
    return *outcome.result();
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<component::Linker> linker_;
  TestHost host_;
  std::shared_ptr<component::ComponentInstance> instance_;
  component::ComponentPtr component_;
};

using Outcome = std::variant<std::optional<Val>, engine::Trap>;

}  // namespace
}  // namespace stratus::test

namespace stratus::component {
// Readable values in gtest's messages.
void PrintTo(const Val& v, std::ostream* os) { *os << to_string(v); }
}  // namespace stratus::component

namespace stratus::test {
namespace {

// An implementation that returns its single argument.
Outcome identity(component::CallContext&, std::span<const Val> args) { return std::optional<Val>(args[0]); }
Outcome value(Val v) { return std::optional<Val>(std::move(v)); }
Outcome host_trap(const std::string& message) { return engine::Trap{engine::TrapKind::Other, message, 0}; }

TEST_P(JcoRuntimeTest, Numbers) {
  const std::string iface = "test:numbers/test#";
  for (const char* t : {"u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64", "char"})
    host_.implement(iface + "roundtrip-" + t, identity);
  uint32_t scalar = 0;
  host_.implement(iface + "set-scalar", [&](component::CallContext&, std::span<const Val> args) {
    scalar = static_cast<uint32_t>(args[0].as_unsigned());
    return Outcome(std::optional<Val>());
  });
  host_.implement(iface + "get-scalar",
                  [&](component::CallContext&, std::span<const Val>) { return value(Val::u32(scalar)); });
  ASSERT_TRUE(start("numbers"));
  call("test-imports");
  EXPECT_GE(scalar, 1u);  // the guest set it through the import

  for (Val v : {Val::u8(0), Val::u8(255)}) EXPECT_EQ(call(iface + "roundtrip-u8", {v}), v);
  for (Val v : {Val::s8(-128), Val::s8(127)}) EXPECT_EQ(call(iface + "roundtrip-s8", {v}), v);
  for (Val v : {Val::u16(0), Val::u16(65535)}) EXPECT_EQ(call(iface + "roundtrip-u16", {v}), v);
  for (Val v : {Val::s16(-32768), Val::s16(32767)}) EXPECT_EQ(call(iface + "roundtrip-s16", {v}), v);
  for (Val v : {Val::u32(0), Val::u32(0xffffffffu)}) EXPECT_EQ(call(iface + "roundtrip-u32", {v}), v);
  for (Val v : {Val::s32(INT32_MIN), Val::s32(INT32_MAX)}) EXPECT_EQ(call(iface + "roundtrip-s32", {v}), v);
  for (Val v : {Val::u64(0), Val::u64(UINT64_MAX)}) EXPECT_EQ(call(iface + "roundtrip-u64", {v}), v);
  for (Val v : {Val::s64(INT64_MIN), Val::s64(INT64_MAX)}) EXPECT_EQ(call(iface + "roundtrip-s64", {v}), v);
  for (Val v : {Val::f32(1.5f), Val::f32(-INFINITY), Val::f32(FLT_MAX)})
    EXPECT_EQ(call(iface + "roundtrip-f32", {v}), v);
  for (Val v : {Val::f64(1.5), Val::f64(INFINITY), Val::f64(DBL_MIN)}) EXPECT_EQ(call(iface + "roundtrip-f64", {v}), v);
  // A NaN comes back as the canonical NaN.
  EXPECT_EQ(call(iface + "roundtrip-f32", {Val::f32_bits(0x7fc00001u)}).f32_bits(), 0x7fc00000u);
  EXPECT_EQ(call(iface + "roundtrip-f64", {Val::f64_bits(0xfff8000000000001ull)}).f64_bits(), 0x7ff8000000000000ull);
  for (Val v : {Val::character(U'a'), Val::character(U'\U0001F6A9'), Val::character(0x10ffff)})
    EXPECT_EQ(call(iface + "roundtrip-char", {v}), v);
  call(iface + "set-scalar", {Val::u32(7)});
  EXPECT_EQ(call(iface + "get-scalar"), Val::u32(7));
}

TEST_P(JcoRuntimeTest, Strings) {
  std::string taken;
  host_.implement("test:strings/imports#take-basic", [&](component::CallContext&, std::span<const Val> args) {
    taken = args[0].as_string();
    return taken == "latin utf16" ? Outcome(std::optional<Val>()) : host_trap("take-basic got `" + taken + "`");
  });
  host_.implement("test:strings/imports#return-unicode",
                  [](component::CallContext&, std::span<const Val>) { return value(Val::string("🚀🚀🚀 𠈄𓀀")); });
  ASSERT_TRUE(start("strings"));
  call("test-imports");
  EXPECT_EQ(taken, "latin utf16");
  EXPECT_EQ(call("return-empty"), Val::string(""));
  // The guest (wit-bindgen's C test, UTF-16) asserts a non-empty string.
  for (const char* s : {"x", "latin utf16", "🚀🚀🚀 𠈄𓀀"}) EXPECT_EQ(call("roundtrip", {Val::string(s)}), Val::string(s));
  std::string big(100000, 'z');
  EXPECT_EQ(call("roundtrip", {Val::string(big)}), Val::string(big));
}

TEST_P(JcoRuntimeTest, Smoke) {
  int thunks = 0;
  host_.implement("test:smoke/imports#thunk", [&](component::CallContext&, std::span<const Val>) {
    thunks += 1;
    return Outcome(std::optional<Val>());
  });
  ASSERT_TRUE(start("smoke"));
  call("thunk");
  EXPECT_EQ(thunks, 1);
}

TEST_P(JcoRuntimeTest, ManyArguments) {
  std::vector<Val> args;
  for (uint64_t i = 1; i <= 16; ++i) args.push_back(Val::u64(i));
  std::vector<Val> seen;
  host_.implement("imports#many-arguments", [&](component::CallContext&, std::span<const Val> a) {
    seen.assign(a.begin(), a.end());
    return Outcome(std::optional<Val>());
  });
  ASSERT_TRUE(start("many-arguments"));
  call("many-arguments", args);
  if (!seen.empty()) {
    EXPECT_EQ(seen, args);
  }
}

TEST_P(JcoRuntimeTest, AdderAndBigint) {
  ASSERT_TRUE(start("adder"));
  EXPECT_EQ(call("docs:adder/add@0.1.0#add", {Val::u32(40), Val::u32(2)}), Val::u32(42));
  EXPECT_EQ(call("docs:adder/add@0.1.0#add", {Val::u32(0xffffffffu), Val::u32(1)}), Val::u32(0));
  linker_ = std::make_unique<component::Linker>(*engine_);
  ASSERT_TRUE(start("asmjs_bigint"));
  EXPECT_EQ(call("add", {Val::s64(INT64_MAX - 1), Val::s64(1)}), Val::s64(INT64_MAX));
  EXPECT_EQ(call("add", {Val::s64(-5), Val::s64(3)}), Val::s64(-2));
}

// Builders for the values the contracts below spell out.
Val str(const std::string& s) { return Val::string(s); }
template <class F, class T>
Val list_of(F make, std::initializer_list<T> xs) {
  std::vector<Val> items;
  for (const T& x : xs) items.push_back(make(x));
  return Val::list(std::move(items));
}
Val bytes(std::initializer_list<uint8_t> xs) { return list_of(Val::u8, xs); }
Val strings(std::initializer_list<const char*> xs) {
  return list_of([](const char* x) { return Val::string(x); }, xs);
}

// A host implementation that checks its arguments against what the guest's
// contract says it passes, and returns `result`.
component::HostFuncCallback expecting(std::vector<Val> want, std::optional<Val> result = std::nullopt) {
  return [want, result](component::CallContext&, std::span<const Val> args) -> Outcome {
    for (size_t i = 0; i < want.size(); ++i) {
      if (i >= args.size() || !(args[i] == want[i]))
        return host_trap("argument " + std::to_string(i) + ": expected " + to_string(want[i]) + ", got " +
                         (i < args.size() ? to_string(args[i]) : std::string("nothing")));
    }
    return result;
  };
}

// wit-bindgen's tests/runtime/lists: the guest's test-imports calls each
// import with these values; its exports return what these say.
TEST_P(JcoRuntimeTest, Lists) {
  const std::string iface = "test:lists/test#";
  host_.implement(iface + "empty-list-param", expecting({bytes({})}));
  host_.implement(iface + "empty-string-param", expecting({str("")}));
  host_.implement(iface + "empty-list-result", expecting({}, bytes({})));
  host_.implement(iface + "empty-string-result", expecting({}, str("")));
  host_.implement(iface + "list-param", expecting({bytes({1, 2, 3, 4})}));
  host_.implement(iface + "list-param2", expecting({str("foo")}));
  host_.implement(iface + "list-param3", expecting({strings({"foo", "bar", "baz"})}));
  host_.implement(iface + "list-param4", expecting({Val::list({strings({"foo", "bar"}), strings({"baz"})})}));
  auto triple = [](uint8_t a, uint32_t b, uint8_t c) { return Val::tuple({Val::u8(a), Val::u32(b), Val::u8(c)}); };
  host_.implement(iface + "list-param5", expecting({Val::list({triple(1, 2, 3), triple(4, 5, 6)})}));
  host_.implement(iface + "list-result", expecting({}, bytes({1, 2, 3, 4, 5})));
  host_.implement(iface + "list-result2", expecting({}, str("hello!")));
  host_.implement(iface + "list-result3", expecting({}, strings({"hello,", "world!"})));
  host_.implement(iface + "list-roundtrip", identity);
  host_.implement(iface + "string-roundtrip", identity);
  auto both = [](component::CallContext&, std::span<const Val> args) {
    return Outcome(std::optional<Val>(Val::tuple({args[0], args[1]})));
  };
  for (const char* f : {"list-minmax8", "list-minmax16", "list-minmax32", "list-minmax64", "list-minmax-float"})
    host_.implement(iface + f, both);
  ASSERT_TRUE(start("lists"));
  call("test-imports");

  call(iface + "empty-list-param", {bytes({})});
  call(iface + "empty-string-param", {str("")});
  EXPECT_EQ(call(iface + "empty-list-result"), bytes({}));
  EXPECT_EQ(call(iface + "empty-string-result"), str(""));
  call(iface + "list-param", {bytes({1, 2, 3, 4})});
  call(iface + "list-param2", {str("foo")});
  call(iface + "list-param3", {strings({"foo", "bar", "baz"})});
  call(iface + "list-param4", {Val::list({strings({"foo", "bar"}), strings({"baz"})})});
  call(iface + "list-param5", {Val::list({triple(1, 2, 3), triple(4, 5, 6)})});
  EXPECT_EQ(call(iface + "list-result"), bytes({1, 2, 3, 4, 5}));
  EXPECT_EQ(call(iface + "list-result2"), str("hello!"));
  EXPECT_EQ(call(iface + "list-result3"), strings({"hello,", "world!"}));
  for (auto v : {bytes({}), bytes({1, 2, 255})}) EXPECT_EQ(call(iface + "list-roundtrip", {v}), v);
  for (auto v : {str("x"), str("hello ⚑ world")}) EXPECT_EQ(call(iface + "string-roundtrip", {v}), v);
  // The C guest leaves its list-minmax exports unimplemented (`assert(0)`),
  // and counts no allocations.
  EXPECT_EQ(call("allocated-bytes"), Val::u32(0));
}

// wit-bindgen's tests/runtime/records.
TEST_P(JcoRuntimeTest, Records) {
  const std::string iface = "test:records/test#";
  host_.implement(iface + "multiple-results", expecting({}, Val::tuple({Val::u8(4), Val::u16(5)})));
  host_.implement(iface + "swap-tuple", [](component::CallContext&, std::span<const Val> args) {
    return value(Val::tuple({args[0].items()[1], args[0].items()[0]}));
  });
  for (const char* f : {"roundtrip-flags1", "roundtrip-flags2", "roundtrip-record1", "tuple1"})
    host_.implement(iface + f, identity);
  host_.implement(iface + "roundtrip-flags3", [](component::CallContext&, std::span<const Val> args) {
    return value(Val::tuple({args[0], args[1], args[2]}));
  });
  ASSERT_TRUE(start("records"));
  call("test-imports");

  EXPECT_EQ(call(iface + "multiple-results"), Val::tuple({Val::u8(100), Val::u16(200)}));
  EXPECT_EQ(call(iface + "swap-tuple", {Val::tuple({Val::u8(1), Val::u32(2)})}), Val::tuple({Val::u32(2), Val::u8(1)}));
  for (auto f : {Val::flags({}), Val::flags({0}), Val::flags({1}), Val::flags({0, 1})})
    EXPECT_EQ(call(iface + "roundtrip-flags1", {f}), f);
  for (auto f : {Val::flags({}), Val::flags({0}), Val::flags({1, 2}), Val::flags({0, 1, 2})})
    EXPECT_EQ(call(iface + "roundtrip-flags2", {f}), f);
  auto f8 = Val::flags({0, 7});
  auto f16 = Val::flags({0, 15});
  auto f32 = Val::flags({0, 31});
  EXPECT_EQ(call(iface + "roundtrip-flags3", {f8, f16, f32}), Val::tuple({f8, f16, f32}));
  auto r1 = Val::record({Val::u8(8), Val::flags({1})});
  EXPECT_EQ(call(iface + "roundtrip-record1", {r1}), r1);
  EXPECT_EQ(call(iface + "tuple1", {Val::tuple({Val::u8(1)})}), Val::tuple({Val::u8(1)}));
}

// wit-bindgen's tests/runtime/variants.
TEST_P(JcoRuntimeTest, Variants) {
  const std::string iface = "test:variants/test#";
  host_.implement(iface + "roundtrip-option", [](component::CallContext&, std::span<const Val> args) {
    const Val* some = args[0].payload();
    if (some == nullptr) return value(Val::option(std::nullopt));
    float f;
    uint32_t bits = some->f32_bits();
    std::memcpy(&f, &bits, 4);
    return value(Val::option(Val::u8(static_cast<uint8_t>(f))));
  });
  host_.implement(iface + "roundtrip-result", [](component::CallContext&, std::span<const Val> args) {
    const Val& r = args[0];
    if (r.discriminant() == 0) return value(Val::ok(Val::f64(static_cast<double>(r.payload()->as_unsigned()))));
    float f;
    uint32_t bits = r.payload()->f32_bits();
    std::memcpy(&f, &bits, 4);
    return value(Val::err(Val::u8(static_cast<uint8_t>(f))));
  });
  host_.implement(iface + "roundtrip-enum", identity);
  host_.implement(iface + "invert-bool", [](component::CallContext&, std::span<const Val> args) {
    return value(Val::boolean(!args[0].as_bool()));
  });
  host_.implement(iface + "variant-casts", identity);
  host_.implement(iface + "variant-zeros", identity);
  host_.implement(iface + "variant-typedefs",
                  [](component::CallContext&, std::span<const Val>) { return Outcome(std::optional<Val>()); });
  host_.implement(iface + "variant-enums",
                  expecting({Val::boolean(true), Val::ok(std::nullopt), Val::enumeration(0)},
                            Val::tuple({Val::boolean(false), Val::err(std::nullopt), Val::enumeration(1)})));
  ASSERT_TRUE(start("variants"));
  call("test-imports");

  EXPECT_EQ(call(iface + "roundtrip-option", {Val::option(Val::f32(1.0f))}), Val::option(Val::u8(1)));
  EXPECT_EQ(call(iface + "roundtrip-option", {Val::option(std::nullopt)}), Val::option(std::nullopt));
  EXPECT_EQ(call(iface + "roundtrip-option", {Val::option(Val::f32(2.0f))}), Val::option(Val::u8(2)));
  EXPECT_EQ(call(iface + "roundtrip-result", {Val::ok(Val::u32(2))}), Val::ok(Val::f64(2.0)));
  EXPECT_EQ(call(iface + "roundtrip-result", {Val::ok(Val::u32(4))}), Val::ok(Val::f64(4.0)));
  EXPECT_EQ(call(iface + "roundtrip-result", {Val::err(Val::f32(5.3f))}), Val::err(Val::u8(5)));
  EXPECT_EQ(call(iface + "roundtrip-enum", {Val::enumeration(0)}), Val::enumeration(0));
  EXPECT_EQ(call(iface + "roundtrip-enum", {Val::enumeration(1)}), Val::enumeration(1));
  EXPECT_EQ(call(iface + "invert-bool", {Val::boolean(true)}), Val::boolean(false));
  EXPECT_EQ(call(iface + "invert-bool", {Val::boolean(false)}), Val::boolean(true));
  auto casts = Val::tuple({Val::variant(0, Val::s32(1)), Val::variant(0, Val::s32(2)), Val::variant(0, Val::s32(3)),
                           Val::variant(0, Val::s64(4)), Val::variant(0, Val::s64(5)), Val::variant(0, Val::f32(6))});
  EXPECT_EQ(call(iface + "variant-casts", {casts}), casts);
  auto casts_b = Val::tuple({Val::variant(1, Val::s64(1)), Val::variant(1, Val::f32(2)), Val::variant(1, Val::f64(3)),
                             Val::variant(1, Val::f32(4)), Val::variant(1, Val::f64(5)), Val::variant(1, Val::f64(6))});
  EXPECT_EQ(call(iface + "variant-casts", {casts_b}), casts_b);
  auto zeros = Val::tuple({Val::variant(0, Val::s32(1)), Val::variant(0, Val::s64(2)), Val::variant(0, Val::f32(3)),
                           Val::variant(0, Val::f64(4))});
  EXPECT_EQ(call(iface + "variant-zeros", {zeros}), zeros);
  auto zeros_b = Val::tuple({Val::variant(1, std::nullopt), Val::variant(1, std::nullopt),
                             Val::variant(1, std::nullopt), Val::variant(1, std::nullopt)});
  EXPECT_EQ(call(iface + "variant-zeros", {zeros_b}), zeros_b);
  call(iface + "variant-typedefs", {Val::option(std::nullopt), Val::boolean(false), Val::err(std::nullopt)});
  // The C guest leaves its variant-enums export unimplemented (`assert(0)`).
}

// wit-bindgen's tests/runtime/flavorful.
TEST_P(JcoRuntimeTest, Flavorful) {
  const std::string iface = "test:flavorful/test#";
  auto rec = [](const char* s) { return Val::record({Val::string(s)}); };
  host_.implement(iface + "f-list-in-record1", expecting({rec("list_in_record1")}));
  host_.implement(iface + "f-list-in-record2", expecting({}, rec("list_in_record2")));
  host_.implement(iface + "f-list-in-record3",
                  expecting({rec("list_in_record3 input")}, rec("list_in_record3 output")));
  host_.implement(iface + "f-list-in-record4", expecting({rec("input4")}, rec("result4")));
  host_.implement(iface + "f-list-in-variant1", expecting({Val::option(str("foo")), Val::err(str("bar"))}));
  host_.implement(iface + "f-list-in-variant2", expecting({}, Val::option(str("list_in_variant2"))));
  host_.implement(iface + "f-list-in-variant3", expecting({Val::option(str("input3"))}, Val::option(str("output3"))));
  // The first call fails with `b`, later ones succeed (the guest checks both).
  bool errored = false;
  host_.implement(iface + "errno-result", [&errored](component::CallContext&, std::span<const Val>) {
    bool first = !errored;
    errored = true;
    return value(first ? Val::err(Val::enumeration(2)) : Val::ok(std::nullopt));
  });
  host_.implement(iface + "list-typedefs",
                  expecting({str("typedef1"), strings({"typedef2"})},
                            Val::tuple({bytes({'t', 'y', 'p', 'e', 'd', 'e', 'f', '3'}), strings({"typedef4"})})));
  auto bools = [](std::initializer_list<bool> xs) { return list_of(Val::boolean, xs); };
  auto units = [](std::initializer_list<bool> oks) {
    return list_of([](bool ok) { return ok ? Val::ok(std::nullopt) : Val::err(std::nullopt); }, oks);
  };
  auto errnos = [](std::initializer_list<uint32_t> xs) { return list_of(Val::enumeration, xs); };
  host_.implement(iface + "list-of-variants",
                  expecting({bools({true, false}), units({true, false}), errnos({0, 1})},
                            Val::tuple({bools({false, true}), units({false, true}), errnos({1, 2})})));
  ASSERT_TRUE(start("flavorful"));
  call("test-imports");

  call(iface + "f-list-in-record1", {rec("list_in_record1")});
  EXPECT_EQ(call(iface + "f-list-in-record2"), rec("list_in_record2"));
  EXPECT_EQ(call(iface + "f-list-in-record3", {rec("list_in_record3 input")}), rec("list_in_record3 output"));
  EXPECT_EQ(call(iface + "f-list-in-record4", {rec("input4")}), rec("result4"));
  call(iface + "f-list-in-variant1", {Val::option(str("foo")), Val::err(str("bar"))});
  EXPECT_EQ(call(iface + "f-list-in-variant2"), Val::option(str("list_in_variant2")));
  EXPECT_EQ(call(iface + "f-list-in-variant3", {Val::option(str("input3"))}), Val::option(str("output3")));
  EXPECT_EQ(call(iface + "errno-result"), Val::err(Val::enumeration(2)));
  EXPECT_EQ(call(iface + "list-typedefs", {str("typedef1"), strings({"typedef2"})}),
            Val::tuple({bytes({'t', 'y', 'p', 'e', 'd', 'e', 'f', '3'}), strings({"typedef4"})}));
  // The C guest leaves its list-of-variants export unimplemented (`assert(0)`).
}

// A host resource whose reps index a table of s32 values.
struct HostValues {
  std::map<uint32_t, int32_t> values;
  uint32_t next = 1;
  uint32_t add(int32_t v) {
    values[next] = v;
    return next++;
  }
};

// jco's resources test (wit-bindgen's tests/runtime/resources): the guest
// uses the host's `y` through test-imports, and exports x, z and kebab-case.
TEST_P(JcoRuntimeTest, Resources) {
  HostValues ys;
  auto rep_of = [](const Val& v) { return v.as_handle().rep; };
  host_.implement("imports#[constructor]y", [&](component::CallContext&, std::span<const Val> args) {
    return value(host_.own("imports", "y", ys.add(static_cast<int32_t>(args[0].as_signed()))));
  });
  host_.implement("imports#[method]y.get-a", [&](component::CallContext&, std::span<const Val> args) {
    return value(Val::s32(ys.values.at(rep_of(args[0]))));
  });
  host_.implement("imports#[method]y.set-a", [&](component::CallContext&, std::span<const Val> args) {
    ys.values.at(rep_of(args[0])) = static_cast<int32_t>(args[1].as_signed());
    return Outcome(std::optional<Val>());
  });
  host_.implement("imports#[static]y.add", [&](component::CallContext&, std::span<const Val> args) {
    int32_t sum = ys.values.at(rep_of(args[0])) + static_cast<int32_t>(args[1].as_signed());
    return value(host_.own("imports", "y", ys.add(sum)));
  });
  ASSERT_TRUE(start("resources"));
  EXPECT_EQ(call("exports#test-imports"), Val::ok(std::nullopt)) << host_.stderr_text();
  EXPECT_GE(host_.drops().count("imports#y"), 1u);  // the guest dropped the ys it made

  // x: constructor, methods, a static taking and returning an own.
  Val x = call("exports#[constructor]x", {Val::s32(5)});
  ASSERT_EQ(x.kind(), component::ValKind::Own);
  EXPECT_EQ(call("exports#[method]x.get-a", {Val::borrow(x.as_handle())}), Val::s32(5));
  call("exports#[method]x.set-a", {Val::borrow(x.as_handle()), Val::s32(6)});
  EXPECT_EQ(call("exports#[method]x.get-a", {Val::borrow(x.as_handle())}), Val::s32(6));
  Val x2 = call("exports#[static]x.add", {x, Val::s32(4)});
  EXPECT_EQ(call("exports#[method]x.get-a", {Val::borrow(x2.as_handle())}), Val::s32(10));
  call("exports#consume", {x2});

  // z: two borrows in, an own out; drops counted by the guest.
  uint32_t dropped_before = static_cast<uint32_t>(call("exports#[static]z.num-dropped").as_unsigned());
  Val z1 = call("exports#[constructor]z", {Val::s32(1)});
  Val z2 = call("exports#[constructor]z", {Val::s32(2)});
  Val z3 = call("exports#add", {Val::borrow(z1.as_handle()), Val::borrow(z2.as_handle())});
  EXPECT_EQ(call("exports#[method]z.get-a", {Val::borrow(z3.as_handle())}), Val::s32(3));
  for (const Val& z : {z1, z2, z3}) EXPECT_TRUE(instance_->drop_resource(z.as_handle()).ok());
  EXPECT_EQ(call("exports#[static]z.num-dropped"), Val::u32(dropped_before + 3));

  Val k = call("exports#[constructor]kebab-case", {Val::u32(7)});
  EXPECT_EQ(call("exports#[method]kebab-case.get-a", {Val::borrow(k.as_handle())}), Val::u32(7));
  EXPECT_EQ(call("exports#[static]kebab-case.take-owned", {k}), Val::u32(7));
}

// jco's resource_borrow_simple: the guest makes a host `r` and lends it to
// the host's `test`.
TEST_P(JcoRuntimeTest, ResourceBorrowSimple) {
  int constructed = 0;
  int tested = 0;
  host_.implement("[constructor]r", [&](component::CallContext&, std::span<const Val>) {
    constructed += 1;
    return value(host_.own("", "r", 41));
  });
  host_.implement("test", [&](component::CallContext&, std::span<const Val> args) {
    if (args[0].kind() != component::ValKind::Borrow || args[0].as_handle().rep != 41)
      return host_trap("test: expected a borrow of the r the host made, got " + to_string(args[0]));
    tested += 1;
    return Outcome(std::optional<Val>());
  });
  ASSERT_TRUE(start("resource-borrow-simple"));
  call("test-imports");
  EXPECT_EQ(constructed, 1);
  EXPECT_EQ(tested, 1);
  EXPECT_EQ(host_.drops().at("#r"), 1);
}

// wit-bindgen's resource_import_and_export: the guest exports a `thing`
// that wraps the host's and offsets every value (new v+1, foo +2, bar v+3,
// baz builds a new thing from the host's baz, foo()+4); its toplevel-export
// passes the host's thing through toplevel-import.
TEST_P(JcoRuntimeTest, ResourceImportAndExport) {
  const std::string name = "test:resource-import-and-export/test";
  const std::string iface = name + "#";
  HostValues things;
  std::vector<std::string> log;
  auto rep_of = [](const Val& v) { return v.as_handle().rep; };
  auto u32 = [](int32_t v) { return Val::u32(static_cast<uint32_t>(v)); };
  host_.implement(iface + "[constructor]thing", [&](component::CallContext&, std::span<const Val> args) {
    log.push_back("new " + std::to_string(args[0].as_unsigned()));
    return value(host_.own(name, "thing", things.add(static_cast<int32_t>(args[0].as_unsigned()))));
  });
  host_.implement(iface + "[method]thing.foo", [&](component::CallContext&, std::span<const Val> args) {
    return value(u32(things.values.at(rep_of(args[0]))));
  });
  host_.implement(iface + "[method]thing.bar", [&](component::CallContext&, std::span<const Val> args) {
    log.push_back("bar " + std::to_string(args[1].as_unsigned()));
    things.values.at(rep_of(args[0])) = static_cast<int32_t>(args[1].as_unsigned());
    return Outcome(std::optional<Val>());
  });
  host_.implement(iface + "[static]thing.baz", [&](component::CallContext&, std::span<const Val> args) {
    int32_t sum = things.values.at(rep_of(args[0])) + things.values.at(rep_of(args[1]));
    return value(host_.own(name, "thing", things.add(sum)));
  });
  host_.implement("toplevel-import", [&](component::CallContext&, std::span<const Val> args) {
    log.push_back("toplevel-import");
    return value(args[0]);
  });
  ASSERT_TRUE(start("resource-import-and-export"));

  auto foo = [&](const Val& t) { return call(iface + "[method]thing.foo", {Val::borrow(t.as_handle())}); };
  Val a = call(iface + "[constructor]thing", {Val::u32(10)});
  EXPECT_EQ(foo(a), Val::u32(10 + 1 + 2));
  call(iface + "[method]thing.bar", {Val::borrow(a.as_handle()), Val::u32(20)});
  EXPECT_EQ(foo(a), Val::u32(20 + 3 + 2));
  Val b = call(iface + "[constructor]thing", {Val::u32(100)});
  Val c = call(iface + "[static]thing.baz", {a, b});
  EXPECT_EQ(foo(c), Val::u32((23 + 101) + 4 + 1 + 2));
  EXPECT_EQ(log, (std::vector<std::string>{"new 11", "bar 23", "new 101", "new 129"}));
  EXPECT_TRUE(instance_->drop_resource(c.as_handle()).ok());

  // The world's `thing` is the imported (host) one.
  Val mine = host_.own(name, "thing", things.add(7));
  Val back = call("toplevel-export", {mine});
  EXPECT_EQ(back, mine);
  EXPECT_EQ(log.back(), "toplevel-import");
  // Passing the guest's own thing where the host's is expected is a trap
  // that names the resource, not a crash.
  Val guest_thing = call(iface + "[constructor]thing", {Val::u32(1)});
  auto wrong = instance_->call("toplevel-export", std::vector<Val>{guest_thing});
  ASSERT_TRUE(wrong.trapped() || wrong.failed());
  const std::string message = wrong.trapped() ? wrong.trap().message : wrong.error().message;
  EXPECT_NE(message.find("found `thing`"), std::string::npos) << message;
}

// jco's async_call and simple-nested: each export returns what the import
// it forwards to returned (simple-nested through a nested component).
TEST_P(JcoRuntimeTest, AsyncCallForwardsToItsImports) {
  host_.implement("something:test/test-interface#call-sync", expecting({}, str("sync from host")));
  host_.implement("something:test/test-interface#call-async", expecting({}, str("async from host")));
  ASSERT_TRUE(start("async_call"));
  EXPECT_EQ(call("run-sync"), str("sync from host"));
  EXPECT_EQ(call("run-async"), str("async from host"));
}

TEST_P(JcoRuntimeTest, SimpleNestedForwardsToItsImport) {
  const std::string hello = "calvinrp:test-async-funcs/hello@0.1.0#hello-world";
  host_.implement(hello, expecting({}, str("hello from host")));
  for (const char* name : {"simple-nested", "simple-nested-optimized"}) {
    linker_ = std::make_unique<component::Linker>(*engine_);
    ASSERT_TRUE(start(name));
    EXPECT_EQ(call(hello), str("hello from host")) << name;
  }
}

// The C guests leave some exports unimplemented: they call __assert_fail
// unconditionally. Calling one is a trap that carries the guest's message,
// and the instance stays usable.
TEST_P(JcoRuntimeTest, AGuestAssertionIsATrapWithItsMessage) {
  ASSERT_TRUE(start("lists"));
  auto outcome = instance_->call("test:lists/test#list-minmax8", std::vector<Val>{bytes({0}), Val::list({})});
  ASSERT_TRUE(outcome.trapped());
  EXPECT_NE(host_.stderr_text().find("exports_test_lists_test_list_minmax8"), std::string::npos) << host_.stderr_text();
  // The trap ends the instance (the spec's lockdown); a new one serves.
  auto again = instance_->call("test:lists/test#list-roundtrip", std::vector<Val>{bytes({1, 2})});
  ASSERT_TRUE(again.trapped());
  EXPECT_EQ(again.trap().message, "cannot enter component instance");
  auto fresh = linker_->instantiate(component_);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  instance_ = *fresh;
  EXPECT_EQ(call("test:lists/test#list-roundtrip", {bytes({1, 2})}), bytes({1, 2}));
}

INSTANTIATE_TEST_SUITE_P(Backends, JcoRuntimeTest, testing::Values("interp", "aot"));

}  // namespace
}  // namespace stratus::test

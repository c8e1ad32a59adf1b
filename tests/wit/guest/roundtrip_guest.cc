// The guest of the round-trip test, compiled to wasm32 and made a
// component by the build (CMakeLists.txt): each export of `api` hands its
// arguments to the host's function of the same name through the generated
// guest bindings and returns what the host answers, so every value is
// lifted and lowered by the generated code twice (export parameters, import
// arguments, import results, export results).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "roundtrip_bindings.h"

namespace host = ::test::guest::host;

namespace exports::test::guest::api {

std::tuple<bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, uint64_t, float, double, char32_t>
echo_prims(bool a, int8_t b, uint8_t c, int16_t d, uint16_t e, int32_t f, uint32_t g, int64_t h, uint64_t i, float j,
           double k, char32_t l) {
  return host::echo_prims(a, b, c, d, e, f, g, h, i, j, k, l);
}
uint8_t echo_u8(uint8_t x) { return host::echo_u8(x); }
int64_t echo_s64(int64_t x) { return host::echo_s64(x); }
float echo_f32(float x) { return host::echo_f32(x); }
char32_t echo_char(char32_t x) { return host::echo_char(x); }
std::string echo_string(std::string_view s) { return host::echo_string(s); }
std::vector<uint8_t> echo_bytes(std::span<const uint8_t> b) { return host::echo_bytes(b); }
std::vector<uint32_t> echo_u32s(std::span<const uint32_t> l) { return host::echo_u32s(l); }
std::vector<std::string> echo_strings(std::span<const std::string> l) { return host::echo_strings(l); }
std::vector<std::vector<std::string>> echo_nested_lists(std::span<const std::vector<std::string>> l) {
  return host::echo_nested_lists(l);
}
Everything echo_everything(const Everything& e) { return host::echo_everything(e); }
Shape echo_shape(const Shape& s) { return host::echo_shape(s); }
std::vector<Shape> echo_shapes(std::span<const Shape> s) { return host::echo_shapes(s); }
Nested echo_nested(const Nested& n) { return host::echo_nested(n); }
std::optional<Point> echo_option_point(const std::optional<Point>& p) { return host::echo_option_point(p); }
Point echo_point(const Point& p) { return host::echo_point(p); }
Color echo_color(Color c) { return host::echo_color(c); }
Perms echo_perms(const Perms& p) { return host::echo_perms(p); }
Many echo_many(const Many& m) { return host::echo_many(m); }
std::expected<std::string, uint32_t> echo_result(const std::expected<std::string, uint32_t>& r) {
  return host::echo_result(r);
}
std::expected<void, std::string> echo_result_err_only(const std::expected<void, std::string>& r) {
  return host::echo_result_err_only(r);
}
std::expected<uint32_t, stratus_guest::Unit> echo_result_ok_only(
    const std::expected<uint32_t, stratus_guest::Unit>& r) {
  return host::echo_result_ok_only(r);
}
std::expected<void, stratus_guest::Unit> echo_result_empty(const std::expected<void, stratus_guest::Unit>& r) {
  return host::echo_result_empty(r);
}
std::vector<std::expected<std::optional<std::string>, std::vector<uint8_t>>> echo_results(
    std::span<const std::expected<std::optional<std::string>, std::vector<uint8_t>>> r) {
  return host::echo_results(r);
}
std::tuple<uint8_t, std::string, double> echo_tuple(const std::tuple<uint8_t, std::string, double>& t) {
  return host::echo_tuple(t);
}
uint64_t sum_many(uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5, uint32_t a6, uint32_t a7,
                  uint32_t a8, uint32_t a9, uint32_t a10, uint32_t a11, uint32_t a12, uint32_t a13, uint32_t a14,
                  uint32_t a15, uint32_t a16, std::string_view a17) {
  return host::sum_many(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17);
}
void nothing() { host::nothing(); }

uint32_t counter_test(uint32_t start) {
  host::Counter a(start);
  a.add(5);
  host::Counter b(10);
  std::vector<host::Counter> more = host::make_counters(3);
  std::vector<const host::Counter*> all{&a, &b};
  for (const auto& c : more) all.push_back(&c);
  uint32_t total = host::Counter::total(all);
  ::roundtrip_world::log(a.name());
  host::Counter merged = host::Counter::merge(std::move(a), std::move(b));
  if (a.handle() != 0 || b.handle() != 0) __builtin_trap();  // moved into the host
  return merged.get() * 1000 + total;
}

namespace {

uint32_t live = 0;

class Sum final : public Accumulator {
 public:
  explicit Sum(int64_t v) : v_(v) { ++live; }
  ~Sum() override { --live; }
  Sum(const Sum&) = delete;
  Sum& operator=(const Sum&) = delete;
  void add(int64_t n) override { v_ += n; }
  int64_t get() override { return v_; }

 private:
  int64_t v_;
};

}  // namespace

std::unique_ptr<Accumulator> Accumulator::create(int64_t start) { return std::make_unique<Sum>(start); }
std::unique_ptr<Accumulator> Accumulator::merge(std::unique_ptr<Accumulator> a, std::unique_ptr<Accumulator> b) {
  return std::make_unique<Sum>(a->get() + b->get());  // a and b are deleted on return
}
int64_t peek(Accumulator& a) { return a.get(); }
uint32_t live_accumulators() { return live; }
uint32_t memory_pages() { return static_cast<uint32_t>(__builtin_wasm_memory_size(0)); }

}  // namespace exports::test::guest::api

namespace exports::roundtrip_world {

std::string run(uint32_t n) {
  ::roundtrip_world::log("run " + std::to_string(n));
  return "ran " + std::to_string(n);
}

}  // namespace exports::roundtrip_world

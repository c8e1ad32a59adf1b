// Fuzzes the component decoder and validator with arbitrary bytes: it must
// return a component or an error, never crash, hang, leak or recurse without
// bound. Decoded components have their type walked and printed as WIT, so the
// resolved type trees the decoder builds are touched too, and are
// instantiated with no imports on the interpreter (most fail to link; those
// that link have their exports' types read), so the runtime's walk over
// definitions is fuzzed.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "component/wit_print.h"
#include "engine/engine.h"

using namespace stratus;

namespace {

std::unique_ptr<engine::Engine> g_engine;

size_t walk(const component::ExternType& t, int depth);

size_t walk(const std::vector<component::NamedExtern>& externs, int depth) {
  size_t n = 0;
  for (const auto& e : externs) n += e.name.size() + walk(e.type, depth + 1);
  return n;
}

size_t walk(const component::ExternType& t, int depth) {
  if (depth > 200) return 0;
  if (const auto* i = std::get_if<component::InstanceTypePtr>(&t)) return walk((*i)->exports, depth);
  if (const auto* c = std::get_if<component::ComponentTypePtr>(&t))
    return walk((*c)->imports, depth) + walk((*c)->exports, depth);
  if (const auto* f = std::get_if<component::FuncTypePtr>(&t)) return (*f)->params.size();
  return 1;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_engine = std::move(engine::make_engine("interp")).value();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  (void)component::is_component(bytes);
  auto decoded = component::decode_component(bytes);
  if (!decoded.ok()) return 0;
  const auto& c = **decoded;
  volatile size_t sink =
      walk(c.type->imports, 0) + walk(c.type->exports, 0) + c.definitions.size() + component::print_wit(*c.type).size();
  (void)sink;
  component::Linker linker(*g_engine);
  component::InstantiateOptions options;
  options.limits.max_memory_bytes = 16ull << 20;
  options.limits.call_timeout = std::chrono::milliseconds(50);
  auto instance = linker.instantiate(*decoded, options);
  if (!instance.ok()) return 0;
  for (const auto& e : c.type->exports) (void)(*instance)->export_type(e.name);
  return 0;
}

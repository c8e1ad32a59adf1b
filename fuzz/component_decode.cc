// Fuzzes the component decoder and validator with arbitrary bytes: it must
// return a component or an error, never crash, hang or leak. Inputs that
// decode are also instantiated with no imports on the interpreter (most
// fail to link; those that link have their exports' types read), so the
// runtime's walk over decoded definitions is fuzzed too.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"

using namespace stratus;

namespace {
std::unique_ptr<engine::Engine> g_engine;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_engine = std::move(engine::make_engine("interp")).value();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  (void)component::is_component(bytes);
  auto decoded = component::decode_component(bytes);
  if (!decoded.ok()) return 0;
  component::Linker linker(*g_engine);
  component::InstantiateOptions options;
  options.limits.max_memory_bytes = 16ull << 20;
  options.limits.call_timeout = std::chrono::milliseconds(50);
  auto instance = linker.instantiate(*decoded, options);
  if (!instance.ok()) return 0;
  for (const auto& e : (*decoded)->type->exports) (void)(*instance)->export_type(e.name);
  return 0;
}

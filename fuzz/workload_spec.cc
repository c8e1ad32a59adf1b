// Fuzzes the workload spec (workload/spec.h) with arbitrary text: parsing
// gives a workload or an error that names the source, never a crash, a hang
// or unbounded recursion (yaml-cpp recurses per nesting level); validation
// and merging of whatever parsed must not crash either.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workload/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto w = stratus::workload::parse_workload(text, "fuzz.yaml");
  if (!w.ok()) {
    if (w.error().message.rfind("fuzz.yaml", 0) != 0) __builtin_trap();  // every error says which spec
    return 0;
  }
  (void)stratus::workload::validate_workload(*w, "/nonexistent-stratus-fuzz");
  stratus::workload::LocalResources defaults;
  defaults.allowed_hosts = {"example.com"};
  for (const auto& c : w->components) (void)stratus::workload::effective_resources(defaults, *w, c.local_resources);
  return 0;
}

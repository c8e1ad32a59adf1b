// Fuzzes wasmCloud's Kubernetes kinds as `stratus up` reads them
// (workload/manifest.h) with arbitrary text: reading gives workloads or an
// error that names the source, never a crash, a hang or unbounded
// recursion; validation of whatever was read, and the rewriting of its
// problems into the manifest's spelling, must not crash either.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "workload/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto read = stratus::workload::read_workload_file(text, "fuzz.yaml");
  if (!read.ok()) {
    if (read.error().message.rfind("fuzz.yaml", 0) != 0) __builtin_trap();  // every error says which file
    return 0;
  }
  for (const auto& m : *read) {
    std::string problems;
    for (const auto& p : stratus::workload::validate_workload(m.workload, "/nonexistent-stratus-fuzz"))
      problems += p + "\n";
    (void)stratus::workload::manifest_message(m, problems);
  }
  // Arbitrary text as a start's message, rewritten under both spec paths.
  stratus::workload::Manifest m;
  m.spec_path = "spec.template.spec";
  (void)stratus::workload::manifest_message(m, std::string(text));
  return 0;
}

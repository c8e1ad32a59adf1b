// Fuzzes the WIT parser and resolver with arbitrary text: it must return a
// syntax tree (and resolved worlds) or an error naming file:line:column,
// never crash, hang or recurse without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wit/parser.h"
#include "wit/resolve.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = stratus::wit::parse_file(text, "fuzz.wit");
  if (!file.ok()) {
    if (file.error().message.rfind("fuzz.wit:", 0) != 0) __builtin_trap();  // every error says where
    return 0;
  }
  auto packages = stratus::wit::packages_of(*file);
  if (!packages.ok() || packages->empty()) return 0;
  for (const auto& body : packages->front().bodies)
    for (const auto& item : body.items)
      if (const auto* w = std::get_if<stratus::wit::WorldDecl>(&item))
        (void)stratus::wit::resolve_world(*packages, w->name);
  return 0;
}

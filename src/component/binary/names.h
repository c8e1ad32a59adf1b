// Import and export names (Explainer.md, "Import and Export Definitions"):
// kebab-case labels, interface names with versions, the [constructor],
// [method] and [static] annotations, and strong uniqueness. Private to binary/.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "component/binary/reader.h"

namespace stratus::component::binary {

// `label` in the grammar: kebab case words or acronyms.
bool is_label(std::string_view s);

enum class NameKind { Label, Constructor, Method, Static, Interface };

struct ParsedName {
  NameKind kind = NameKind::Label;
  std::string resource;  // the resource label of [constructor]/[method]/[static]
  std::string key;       // the canonical form two names conflict on (strong uniqueness)
};

// Checks an externname; the error says which rule it breaks.
Result<ParsedName> parse_extern_name(std::string_view name);

// A name as it appears in an import, export or declarator (nameattributes).
struct ExternName {
  std::string name;
  ParsedName parsed;
  std::optional<std::string> implements;  // the `implements` attribute (an interface name)
  size_t offset = 0;
};
Result<ExternName> read_extern_name(Reader& r);

// A label in a defined type or a function type: kebab case, and strongly
// unique among its siblings (`seen` holds their lowercased forms).
Result<std::string> read_label(Reader& r, std::set<std::string>& seen, const char* what);

}  // namespace stratus::component::binary

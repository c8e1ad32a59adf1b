// WIT text to syntax tree (WIT.md), and the conventional layout of WIT
// folders (a root package's *.wit files plus `deps/`).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"
#include "wit/ast.h"

namespace stratus::wit {

// Parses one WIT file. `path` only names it in errors, which read
// "path:line:column: what is wrong".
Result<File> parse_file(std::string_view source, const std::string& path);

// Whether `text` is a valid semantic version (semver.org 2.0.0).
bool is_semver(std::string_view text);

// A package as written: its name and the files (or nested `package { }`
// blocks) that make it up.
struct ParsedPackage {
  PackageName name;
  std::vector<PackageBody> bodies;
  std::vector<std::string> files;  // where the bodies come from, for messages
};

// The packages one parsed file defines: its own (if it declares one) first,
// else its last `package { }` block first, then the other blocks.
Result<std::vector<ParsedPackage>> packages_of(const File& file);

// WIT.md's feature-gate rules that need no name resolution: items inside a
// gated interface, world or resource are gated at least as strongly, and a
// package using gates has a version. parse_root and packages_of apply it.
Result<void> check_gates(const ParsedPackage& package);
// Gives each ungated item of a `@since` item its container's `@since`, as
// wit-parser reads them (before check_gates; parse_root and packages_of do).
void inherit_gates(ParsedPackage& package);

// -1, 0 or 1 as version a precedes, equals or follows b (semver).
int compare_versions(const std::string& a, const std::string& b);

// Why an item gated `referrer` may not refer to one gated `referenced`
// (WIT.md: an item referring to a gated item is gated compatibly), or
// nullopt when it may.
std::optional<std::string> incompatible_reference(const Gates& referrer, const Gates& referenced);

// The packages of a WIT root: a single file, or a folder whose *.wit files
// form the root package and whose `deps/` holds dependencies (each a file or
// a folder of *.wit files). Every file of a folder must name the same
// package, and at least one must name it. The root package comes first.
Result<std::vector<ParsedPackage>> parse_root(const std::filesystem::path& root);

}  // namespace stratus::wit

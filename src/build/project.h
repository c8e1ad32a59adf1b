// A guest project that `stratus build` compiles into a component and
// `stratus new` scaffolds: a folder with stratus.json, C or C++ sources and,
// for a component of a world, the world in wit/.
//
//   stratus.json  {"name": "demo", "world": "app", "sources": ["src"], "cflags": []}
//   wit/*.wit     the root package, with the world (wit/deps/*.wit: other packages)
//   src/...       the sources (*.c, *.cc, *.cpp, *.cxx; folders are searched)
//
// With "world", the sources are written against the guest bindings that
// `stratus bindgen --guest cpp` generates for it ("bindings.h") and the
// component exports what the world exports. Without it, the project is a
// plain WASI program with main(), made a wasi:cli/command component by the
// preview 1 adapter.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::build {

struct Project {
  std::filesystem::path dir;
  std::string name;
  std::optional<std::string> world;
  std::vector<std::filesystem::path> sources;  // every source file, sorted
  std::vector<std::string> cflags;             // extra compiler flags
};

// A project name: lowercase words of letters and digits joined by '-', each
// starting with a letter (a WIT package name, and the output's file name).
bool valid_project_name(std::string_view name);

// Reads DIR/stratus.json and finds the sources. Every problem is reported at
// once, one line each, naming the field ("stratus.json: sources[1]: ...").
Result<Project> load_project(const std::filesystem::path& dir);

// Whether `path` is a source file stratus build compiles, and as which
// language.
enum class Language { C, Cxx };
std::optional<Language> source_language(const std::filesystem::path& path);

}  // namespace stratus::build

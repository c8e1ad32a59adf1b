// The guest bindings generator (`stratus bindgen --guest cpp`): C++ for a
// component written in C++ and compiled to a wasm32 core module, which
// `jco embed` + `jco new` (wasm-tools component embed/new) then turn into a
// component of the world.
//
// The generated code does the Canonical ABI itself (CanonicalABI.md),
// straight-line per function: imported functions lower their C++ arguments
// to flat core values (or a tuple in memory past 16), call the core import
// the component model names (`[method]r.f`, `[resource-drop]r`, ...), and
// lift the result (from an out-pointer past 1 flat result), freeing what
// the host allocated with the guest's `cabi_realloc`. Exported functions
// are core exports (`iface#f`) that lift their parameters, call a function
// the guest defines, lower the result into a static return area and free
// it in `cabi_post_iface#f`.
//
// C++ forms: strings are std::string_view parameters and std::string
// results, lists std::span<const T> parameters and std::vector<T> results
// (or fields), option std::optional, result std::expected (with
// stratus_guest::Unit for an absent error), tuples std::tuple, records
// structs, variants std::variants of case structs, enums enum classes,
// flags structs of bools. Imported resources are move-only RAII classes
// over their handle; exported resources are abstract classes the guest
// derives from, owned through std::unique_ptr.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"
#include "wit/parser.h"

namespace stratus::wit {

struct GeneratedGuest {
  std::string header;   // <name>.h
  std::string source;   // <name>.cc, which includes "<name>.h"
  std::string runtime;  // stratus_guest_async.h, which <name>.h includes; empty when the world needs none
};

// The async runtime the bindings of worlds with async functions, streams
// or futures include (src/wit/guest/stratus_guest_async.h, embedded).
std::string_view guest_async_runtime();

// `name` is the base name of the generated files (for the #include, and as
// the prefix of the core functions' C names, so that bindings of several
// worlds may share a module; the stream and future types' StreamOps and
// FutureOps are not prefixed: one world's bindings with streams or futures
// per module). Maps and fixed-length lists are refused with an error naming
// the interface and the item; so are borrow handles anywhere but as a
// function's parameter (and as an exported async function's), streams of
// values holding handles, and async functions of exported resources.
//
// Async functions, streams, futures and error-context values map to the
// coroutine runtime `stratus_guest_async.h` (GeneratedGuest::runtime): an
// async function returns `stratus_guest::Task<T>` and takes its parameters
// by value; `stream<T>` is a `StreamReader<T>` (make_stream gives a writer
// and a reader), `future<T>` a `FutureReader<T>`. Exported async functions
// are lifted with a callback (`[async-lift]`, `[callback][async-lift]`),
// imported ones lowered async (`[async-lower]`).
Result<GeneratedGuest> generate_guest_cpp(const std::vector<ParsedPackage>& packages, const std::string& world,
                                          const std::string& name);

}  // namespace stratus::wit

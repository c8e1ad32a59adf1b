// Splits the C wasm2c 1.0.32 writes for one module (one file: its writer
// has no multi-file output in this version) into several translation units
// the C compiler can build at once, one per core.
#pragma once

#include <string>
#include <vector>

namespace stratus::engine::aot {

// {main, part 1, ...}: main is the source without the function bodies the
// parts hold; each part is the source's top (includes, helpers, the
// function declarations) with a share of the bodies. The functions and
// the function-type table lose `static` (the shared object is built with
// hidden visibility, and each module's objects are linked into one
// relocatable object whose hidden symbols are made local, compiler.cc),
// so the parts call each other. Bodies that use a data or element segment
// stay in main (the segments are static there). {source} when the source
// is not laid out as expected, or `parts` < 2.
std::vector<std::string> split_source(const std::string& source, size_t parts);

}  // namespace stratus::engine::aot

// Printing a component's type as WIT (WIT.md), as `wasm-tools component wit`
// does: a world `root` in package `root:component` listing the component's
// imports and exports, then the interfaces the world names by interface name
// (`wasi:io/streams@0.2.0`), each inside a `package ... { }` block.
#pragma once

#include <string>

#include "component/types.h"

namespace stratus::component {

std::string print_wit(const ComponentType& type);

// A WIT identifier as WIT spells it: `%` before a keyword (`%type`).
std::string wit_ident(const std::string& name);

}  // namespace stratus::component

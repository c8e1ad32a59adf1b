// Subtyping of extern types, for instantiation arguments and export
// ascriptions, and substitution of resource types. The decoder's; hosts use
// `substitute` to see an imported interface's types with their own resource
// types in place of the component's.
#pragma once

#include <map>

#include "component/types.h"

namespace stratus::component::binary {

constexpr int kMaxSubtypeDepth = 100;

using ResourceMap = std::map<const ResourceType*, ResourceTypePtr>;

// Binds the abstract `(sub resource)` types `expected` introduces to those of
// `actual` (an instantiation argument), by structure and export name.
void bind_resources(const ExternType& expected, const ExternType& actual, ResourceMap& map);
// Maps each abstract `(sub resource)` type `t` introduces to a fresh copy: an
// instance is made or imported, so its resources are new ones.
void freshen_exports(const ExternType& t, ResourceMap& map);

// Replaces the resource types that `map` names, deep, keeping unchanged
// subtrees shared.
ValType substitute(const ValType& t, const ResourceMap& map);
ExternType substitute(const ExternType& t, const ResourceMap& map);

// Whether `actual` can stand where `expected` is wanted; the error says
// where the two first differ.
Result<void> check_subtype(const ExternType& actual, const ExternType& expected, int depth = 0);

}  // namespace stratus::component::binary

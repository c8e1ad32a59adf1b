// Resolving parsed WIT into the component type model (component/types.h):
// a world becomes the ComponentType a component targeting it has, in the
// form the binary decoder produces (interfaces as instance types whose type
// exports carry TypeNames; resources as abstract ResourceTypes), so the WIT
// printer and the subtype checker work on either.
#pragma once

#include <string>
#include <vector>

#include "component/types.h"
#include "support/result.h"
#include "wit/parser.h"

namespace stratus::wit {

// The type of a component targeting `world` ("name" in the first (root)
// package, or "ns:pkg/name@version"), with the interfaces its imports and
// exports use imported first. Errors say file:line:column.
Result<component::ComponentTypePtr> resolve_world(const std::vector<ParsedPackage>& packages, const std::string& world);

}  // namespace stratus::wit

// Which component of a workload satisfies which import of another: wasmCloud
// links components by WIT interface. An import the host provides (WASI, or
// a host interface the workload asked for) goes to the host; any other goes
// to the one component that exports a compatible version of it. None is a
// start error, as are two providers (ambiguous) and a cycle.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "support/result.h"

namespace stratus::workload {

struct LinkableComponent {
  std::string name;                           // for messages
  std::string where;                          // its field path ("wit_world.components[1]")
  std::vector<std::string> imports, exports;  // top-level names ("ns:pkg/iface@1.2.3")
};

// One import of a component and the export of another that satisfies it.
struct Link {
  std::string import_name;
  size_t provider = 0;  // index into the components given
  std::string export_name;
};

// links[i]: the links of component i, in import order. Every problem is
// reported, one per line.
Result<std::vector<std::vector<Link>>> plan_links(const std::vector<LinkableComponent>& components,
                                                  const std::function<bool(const std::string&)>& host_provides);

// Whether an export named `have` satisfies an import named `want`: the same
// interface, and versions compatible as Wasmtime's linker judges (the same
// major, and for 0.x the same minor), or both unversioned.
bool satisfies(const std::string& have, const std::string& want);

// The providers of component `i`, then of theirs, each once, providers
// before those that use them (the order to instantiate them in).
std::vector<size_t> provider_order(const std::vector<std::vector<Link>>& links, size_t i);

}  // namespace stratus::workload

// Which component of a workload satisfies which import of another: wasmCloud
// links components by WIT interface. An import the host provides (WASI, or
// a host interface the workload asked for) goes to the host; any other goes
// to the one component that exports a compatible version of it. None is a
// start error, as are two providers (ambiguous) and a cycle.
//
// HTTP middleware chains: for a handler interface H (wasi:http/handler@0.3.x
// or wasi:http/incoming-handler@0.2.x), a member exporting H that also
// imports H is a middleware, and its import of H goes to the next member
// after it in wit_world.components that exports a compatible H: [auth, log,
// app] chains auth -> log -> app. Members exporting H that no middleware
// links to are the heads; only heads serve HTTP. Start errors, naming the
// members: a middleware with no H exporter after it (the chain is circular
// or unterminated), and a middleware whose H has more than one head (which
// requests pass it is unclear). Any other member importing H links to the
// one head (several: ambiguous; none: the host's, as for any WASI import).
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
  bool chain = false;  // a middleware's handler import, to the next member of its HTTP chain
};

// links[i]: the links of component i, in import order. Every problem is
// reported, one per line.
Result<std::vector<std::vector<Link>>> plan_links(const std::vector<LinkableComponent>& components,
                                                  const std::function<bool(const std::string&)>& host_provides);

// Whether `name` is an HTTP handler interface chains are made of
// (wasi:http/handler@0.3.x, wasi:http/incoming-handler@0.2.x).
bool is_http_handler(const std::string& name);

// Whether an export named `have` satisfies an import named `want`: the same
// interface, and versions compatible as Wasmtime's linker judges (the same
// major, and for 0.x the same minor), or both unversioned.
bool satisfies(const std::string& have, const std::string& want);

// The providers of component `i`, then of theirs, each once, providers
// before those that use them (the order to instantiate them in).
std::vector<size_t> provider_order(const std::vector<std::vector<Link>>& links, size_t i);

}  // namespace stratus::workload

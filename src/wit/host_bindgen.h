// The host bindings generator: for each interface a world imports (and for
// the functions it imports itself), a C++
// abstract class the host implements (one virtual function per WIT
// function, with C++ types from host_support.h and generated structs), and
// a function that turns an implementation into the component::HostInstance
// the linker takes, converting values through component::Val.
//
// The generated source embeds the world as WIT and resolves it once at run
// time, so the function types the host instance declares are exactly the
// world's.
#pragma once

#include <string>
#include <vector>

#include "support/result.h"
#include "wit/parser.h"

namespace stratus::wit {

struct GeneratedHost {
  std::string header;  // <name>.h
  std::string source;  // <name>.cc, which includes "<name>.h"
};

// `name` is the base name of the generated files (for the #include).
// Functions the world imports itself get a namespace `<world>_world` with
// a Host class of their own. `only`, when not empty, limits the generated
// interfaces to those named (with or without `@version`; the world's own
// name selects its functions); the rest are for the host to define by other
// means. `async func`s become functions answered later through a
// wit::Reply; streams, futures and error contexts map to wit::Stream,
// wit::Future and wit::ErrorContext (host_support.h).
// `ns`, when not empty, is a namespace every generated one goes in (two
// versions of one package in one program: `p3::wasi::cli::environment`).
// The functions of the interfaces `deferred` names (as `only` does) are
// answered later through a wit::Reply even when they are not `async`: a
// host whose work blocks (a database, a broker) does it on another thread
// while the caller's store runs its other tasks.
Result<GeneratedHost> generate_host(const std::vector<ParsedPackage>& packages, const std::string& world,
                                    const std::string& name, const std::vector<std::string>& only = {},
                                    const std::string& ns = "", const std::vector<std::string>& deferred = {});

}  // namespace stratus::wit

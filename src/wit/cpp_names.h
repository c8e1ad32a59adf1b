// How the C++ bindings generators (host_bindgen, guest_bindgen) name WIT
// items in C++: snake_case for functions, fields and namespaces, CamelCase
// for types, C++ keywords (and names the C library takes as macros)
// escaped with a trailing `_`, interfaces as nested namespaces.
#pragma once

#include <string>

namespace stratus::wit {

// Whether `s` may not be used as a C++ identifier as it is.
bool cpp_keyword(const std::string& s);

// `get-stdin` -> `get_stdin` (functions, fields, namespaces); keywords get a
// trailing `_`.
std::string snake(const std::string& kebab);

// `descriptor-stat` -> `DescriptorStat` (types).
std::string camel(const std::string& kebab);

// `s` as a C++ string literal (quotes and backslashes escaped).
std::string string_literal(const std::string& s);

// The C++ namespace of an interface: `wasi:cli/environment@0.2.0` ->
// `wasi::cli::environment` (the version dropped), `my-iface` -> `my_iface`.
std::string interface_namespace(const std::string& name);

}  // namespace stratus::wit

// Values as text in the WAVE syntax (the WebAssembly Value Encoding that
// Wasmtime's `--invoke` reads): `true`, `42`, `-1.5`, `'x'`, `"hi\n"`,
// `[1, 2]`, `(1, "a")`, `{a: 1, b: none}`, `some(x)`, `none`, `ok("x")`,
// `err`, a variant or enum case by name (`red`, `rgb(1)`), flags as
// `{read, write}`. Parsing is directed by the type; the text is untrusted
// (fuzz/val_text.cc): errors say what was expected and at which byte.
// Handles, streams, futures and error contexts have no text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "component/types.h"
#include "component/val.h"
#include "support/result.h"

namespace stratus::component {

// One value of `type`; the whole text must be that value (blanks around it aside).
Result<Val> parse_wave(std::string_view text, const ValType& type);

// The arguments of a call to a function with parameters `params`: values
// separated by commas, as in `f(ARGS)` (an empty text: no arguments).
Result<std::vector<Val>> parse_wave_args(std::string_view text, const std::vector<Field>& params);

// `v` of `type` as WAVE text that parse_wave reads back to `v`; an error
// for values that have none (handles, streams, futures).
Result<std::string> to_wave(const Val& v, const ValType& type);

}  // namespace stratus::component

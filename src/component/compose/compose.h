// Composing components ahead of time (`stratus compose`, what `wac plug`
// does): each import of the main component, or of a plug, that a plug
// exports is satisfied inside the result; the rest stay imports. See
// README.md for the shape of the result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/result.h"

namespace stratus::component::compose {

struct ComposeInput {
  std::string file;  // for messages
  std::vector<uint8_t> bytes;
};

// The composed component's bytes. Errors name the interface and the files:
// a plug that satisfies no import, an import two plugs export, an export
// whose type does not match the import, one import name with incompatible
// types, an input that is not a valid component.
Result<std::vector<uint8_t>> compose(const ComposeInput& main, const std::vector<ComposeInput>& plugs);

}  // namespace stratus::component::compose

// The greeter: exports example:greeter/greet, which the counter component
// of examples/workload.yaml imports; `stratus up` links the two.
#include <string>
#include <string_view>

#include "bindings.h"

namespace exports::example::greeter::greet {

std::string greet(std::string_view name) { return "Hello, " + std::string(name) + "!"; }

}  // namespace exports::example::greeter::greet

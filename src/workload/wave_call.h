// Internal to workload/: a call of a member instance's export with its
// arguments and result as WAVE text (component/val_text.h), for
// stratus:workload/instances (the service's instances of other members).
#pragma once

#include <chrono>
#include <string>

#include "support/result.h"
#include "workload/linked_instance.h"

namespace stratus::workload {

// Calls `function` ("iface#name" or a world-level function) of `member`
// with `args` parsed by its parameter types; the WAVE text of its result
// ("" when it has none). Errors: no such function, a parameter with no
// text (a resource handle, stream, future or error-context), arguments that
// do not parse (what and at which byte), a trap ("trap: ..."), or a call
// that failed otherwise. `trapped`, when given, is set when it trapped.
Result<std::string> call_with_wave(MemberInstance& member, const std::string& function, const std::string& args,
                                   std::chrono::milliseconds timeout, bool* trapped = nullptr);

}  // namespace stratus::workload

// Calls through a link told to a LinkObserver (runtime.h): the lazy
// exports' functions (lazy_export.cc) and, with an observer, those
// Linker::define_export hands over (an HTTP middleware chain's). The
// callee runs under the LinkCall's trace context; a trap ends it failed.
// Private to runtime/.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "component/runtime/instance_state.h"

namespace stratus::component {

// The function a call goes to, found when the call is made (a lazy
// export's makes its instance on the first call).
using TargetOf = std::function<Result<RtFuncPtr>()>;

// RtFunc::call and RtFunc::invoke of the function `target` finds, under a
// link call of `observer` for `path` ("iface#name"); the call is made
// plainly when the observer has nothing to tell (LinkObserver::begin
// null). Ask only when the caller works under a trace context.
CallOutcome call_observed(LinkObserver& observer, const std::string& path, const TargetOf& target,
                          InstanceState* caller, std::span<const Val> args);
std::pair<MaybeTrap, OnCancel> invoke_observed(LinkObserver& observer, const std::string& path, const TargetOf& target,
                                               InstanceState* caller, OnStart on_start, OnResolve on_resolve);

// `item` (an export at `path`) with each of its functions told to
// `observer` when called under a trace context; types and the rest as
// they are.
RtItem observed_item(const RtItem& item, const std::shared_ptr<LinkObserver>& observer, const std::string& path);

}  // namespace stratus::component

// Internal to wasi/p3: WASI 0.3's interfaces over the same WasiCtx as 0.2
// (what a guest may reach is granted once, for both), each defined under
// every 0.3 version the host serves.
#pragma once

#include <string>

#include "component/runtime/runtime.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "wasi/p2/hosts.h"
#include "wasi_p3_bindings.h"

namespace stratus::wasi::p3 {

using p2::HostObjects;
using p2::WasiCtx;

// The versions of WASI 0.3 served side by side: 0.3.0 and the release
// candidate the wasi-testsuite's programs import. The interfaces are made
// from 0.3.0's WIT; a candidate's import of a function whose type differs
// fails to instantiate, naming it.
inline constexpr const char* kVersions[] = {"0.3.0", "0.3.0-rc-2026-03-15"};

// Defines `instance`, made for `interface` (at 0.3.0), under every version.
Result<void> define_versions(component::Linker& linker, const std::string& interface,
                             Result<component::HostInstance> instance);

Result<void> define_clocks(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_random(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_cli(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_http(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_filesystem(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources,
                               HostObjects& keep);
Result<void> define_sockets(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);

}  // namespace stratus::wasi::p3

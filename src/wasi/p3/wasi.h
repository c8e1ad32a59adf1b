// WASI 0.3: the interfaces of its async ABI (streams and futures for
// bytes, async functions for what waits), beside WASI 0.2 in the same
// linker and over the same WasiCtx (p2/ctx.h): a component may import
// either, or both (Rust's standard library of a 0.3 program still writes
// its output through 0.2). Served so far: wasi:clocks, wasi:random,
// wasi:cli, wasi:filesystem, wasi:sockets and wasi:http (served requests:
// serve/; outbound ones through the client, p3/http_client.h, to the hosts
// granted).
#pragma once

#include "component/runtime/runtime.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "wasi/p2/hosts.h"
#include "wit/host_support.h"

namespace stratus::wasi::p3 {

Result<void> add_to_linker(component::Linker& linker, p2::WasiCtx& ctx, wit::HostResources& resources,
                           p2::HostObjects& keep);

}  // namespace stratus::wasi::p3

// Internal to wasi/p2: each file defines its interfaces in a linker, over
// the instance's WasiCtx. Interfaces whose resources others use (poll,
// error, streams) come first: define_all() in wasi.cc keeps the order.
#pragma once

#include <memory>
#include <vector>

#include "component/runtime/runtime.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "wasi_p2_bindings.h"

namespace stratus::wasi::p2 {

// The host objects the linker's functions call; kept as long as it is.
struct HostObjects {
  std::vector<std::shared_ptr<void>> objects;
  template <class T>
  T& keep(std::shared_ptr<T> object) {
    objects.push_back(object);
    return *object;
  }
};

Result<void> define_io(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_clocks(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_random(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_cli(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_http(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_sockets(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep);
Result<void> define_filesystem(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources,
                               HostObjects& keep);

// A trap for a guest that broke a rule of the interface (a handle the host
// does not know, a write larger than check-write allowed).
engine::Trap guest_error(const std::string& message);

// The wasi:io/error handle for a stream failure, or the `closed` case.
::wasi::io::streams::StreamError stream_error(WasiCtx& ctx, const StreamFailure& failure);

}  // namespace stratus::wasi::p2

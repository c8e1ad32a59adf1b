// Byte streams between a guest and the host's streams (p2/streams.h),
// with backpressure: what WASI 0.3's stdio, files and HTTP bodies share.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "component/runtime/host_async.h"
#include "wasi/p2/streams.h"

namespace stratus::wasi::p3 {

// Fills `data`, a stream the host made, from `in`: nothing until the guest
// reads (a zero-length write completes only then), then a chunk of `in`
// (its read may block: the guest is waiting for it), as much of it as the
// guest takes each time. `on_end` runs once: with nothing when `in` ended
// or the reader went away, with the failure when `in` failed. `data` is
// dropped then.
void pump_input(component::HostWriteEnd data, std::shared_ptr<p2::InputStream> in,
                std::function<void(std::optional<p2::StreamFailure>)> on_end);

// Reads `data`, a stream the guest handed over, to its end, giving each
// chunk to `write` (false: the sink failed, stop). `on_end(ok)` runs once:
// ok when the guest dropped its end after all went out. `data` is dropped
// then.
void pump_output(component::HostReadEnd data, std::function<bool(std::span<const uint8_t>)> write,
                 std::function<void(bool ok)> on_end);

}  // namespace stratus::wasi::p3

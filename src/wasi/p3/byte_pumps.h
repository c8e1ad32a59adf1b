// Streams of bytes between a guest and a host stream (p2/streams.h), for
// every WASI 0.3 interface that hands them over (wasi:cli's stdio,
// wasi:filesystem's files): each pump moves what the other side takes and
// no more, then reports how it ended; the caller turns that into its own
// interface's error-code for the future that goes with the stream.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "component/runtime/host_async.h"
#include "wasi/p2/streams.h"

namespace stratus::wasi::p3 {

// How a pump ended: nullopt when the stream ended as it should (the guest
// dropped its end, or the input reached its end), else the failure.
using PumpDone = std::function<void(std::optional<p2::StreamFailure>)>;

// Copies what the guest writes to `data` into `out` until the guest drops
// its end, reading a chunk at a time.
void pump_to_output(component::HostReadEnd data, std::shared_ptr<p2::OutputStream> out, PumpDone done);

// Fills `data` from `in`: offers nothing until the guest reads (a
// zero-length write completes only then), then reads a chunk from `in`
// (which may block: the guest is waiting for it) and offers that.
void pump_from_input(component::HostWriteEnd data, std::shared_ptr<p2::InputStream> in, PumpDone done);

// Writes `value` to a future the host made, then lets it go.
void answer_future(const std::shared_ptr<component::HostWriteEnd>& future, component::Val value);

}  // namespace stratus::wasi::p3

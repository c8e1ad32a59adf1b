// The trace context the code running on this thread's current stack works
// under: observe/current_span.h sets it around a guest call and reads it
// where spans are made (it holds an observe::TraceScope*; null: no trace,
// the only value when no exporter is configured). Here, below every layer,
// so that the component runtime's fiber switch (component/runtime/fiber.cc)
// can swap it with a fiber's own without knowing what it holds: a guest
// parked inside a span leaves the thread as it found it.
#pragma once

namespace stratus {

inline thread_local void* t_trace_slot = nullptr;

}  // namespace stratus

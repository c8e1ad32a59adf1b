// Internal to workload/: a span per call through a link between two
// members of a workload (component::LinkObserver on each lazy export),
// made under the span the caller works under (observe/current_span.h):
// named for the function ("iface#name"), with stratus.workload and the
// caller's and callee's member names; a trap marks it an error. Nothing is
// made when the caller works under no trace (no exporter, or no request).
#pragma once

#include <memory>
#include <string>

#include "component/runtime/runtime.h"
#include "observe/current_span.h"
#include "plugins/message_broker.h"

namespace stratus::workload {

std::shared_ptr<component::LinkObserver> link_spans(std::string workload, std::string caller, std::string callee);

// The span of a message handler's invocation for `message` (OpenTelemetry's
// messaging conventions: "process SUBJECT", a consumer span, messaging.system,
// messaging.destination.name, messaging.operation.type `process`, plus
// stratus.workload and stratus.component), continuing the message's trace
// context or starting a trace; inactive without `exporter`.
observe::Span message_span(observe::TraceExporter* exporter, const plugins::Message& message, const char* system,
                           const std::string& workload, const std::string& component);

}  // namespace stratus::workload

#include "observe/otlp/exporter.h"

#include <google/protobuf/arena.h>
#include "observe/otlp/encoding.h"

#include "trace.pb.h"

namespace stratus::observe {

Result<std::unique_ptr<TraceExporter>> TraceExporter::start(OtlpConfig config) {
  auto transport = OtlpTransport::make("spans", config.traces(), config.timeout, config.attempts);
  if (!transport) return transport.error();
  std::unique_ptr<TraceExporter> e(new TraceExporter(std::move(config), std::move(*transport)));
  e->queue_ = std::make_unique<BatchQueue<SpanData>>(e->config_.max_queue, e->config_.max_batch, e->config_.interval,
                                                     [p = e.get()](const std::vector<SpanData>& batch, bool last) {
                                                       return p->transport_.send(p->encode(batch), batch.size(), last);
                                                     });
  return e;
}

std::string TraceExporter::encode(const std::vector<SpanData>& batch) const {
  // On an arena: the batch's hundreds of spans and attributes are made and
  // freed as a few blocks, not one allocation each.
  google::protobuf::Arena arena;
  auto& request = *google::protobuf::Arena::CreateMessage<stratus::otlp::ExportTraceServiceRequest>(&arena);
  auto* rs = request.add_resource_spans();
  otlp_encoding::add_attributes(*rs->mutable_resource()->mutable_attributes(), config_.resource);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("stratus");
  for (const auto& s : batch) {
    auto* span = ss->add_spans();
    span->set_trace_id(s.trace_id.data(), s.trace_id.size());
    span->set_span_id(s.span_id.data(), s.span_id.size());
    if (s.parent) span->set_parent_span_id(s.parent->data(), s.parent->size());
    if (!s.trace_state.empty()) span->set_trace_state(s.trace_state);
    span->set_flags(s.flags);
    span->set_name(s.name);
    span->set_kind(static_cast<stratus::otlp::Span::SpanKind>(s.kind));
    span->set_start_time_unix_nano(s.start_unix_ns);
    span->set_end_time_unix_nano(s.end_unix_ns);
    otlp_encoding::add_attributes(*span->mutable_attributes(), s.attributes);
    if (s.error) {
      span->mutable_status()->set_code(stratus::otlp::Status::STATUS_CODE_ERROR);
      span->mutable_status()->set_message(s.status_message);
    }
  }
  return otlp_encoding::serialize(request, config_.traces_encoding);
}

}  // namespace stratus::observe

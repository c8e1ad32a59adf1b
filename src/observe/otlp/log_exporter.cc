#include "observe/otlp/log_exporter.h"

#include "logs.pb.h"
#include "observe/otlp/encoding.h"

namespace stratus::observe {

Result<std::unique_ptr<LogExporter>> LogExporter::start(const OtlpConfig& config) {
  auto transport = OtlpTransport::make("log records", config.logs, config.timeout, config.attempts);
  if (!transport) return transport.error();
  std::unique_ptr<LogExporter> e(new LogExporter(config.resource, std::move(*transport)));
  e->queue_ = std::make_unique<BatchQueue<LogData>>(config.max_queue, config.max_batch, config.interval,
                                                    [p = e.get()](const std::vector<LogData>& batch, bool last) {
                                                      return p->transport_.send(p->encode(batch), batch.size(), last);
                                                    });
  return e;
}

std::string LogExporter::encode(const std::vector<LogData>& batch) const {
  stratus::otlp::ExportLogsServiceRequest request;
  auto* rl = request.add_resource_logs();
  otlp_encoding::add_attributes(*rl->mutable_resource()->mutable_attributes(), resource_);
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("stratus");
  for (const auto& r : batch) {
    auto* record = sl->add_log_records();
    if (r.time_unix_ns != 0) record->set_time_unix_nano(r.time_unix_ns);
    record->set_observed_time_unix_nano(r.observed_unix_ns != 0 ? r.observed_unix_ns : r.time_unix_ns);
    record->set_severity_number(r.severity_number);
    record->set_severity_text(r.severity_text);
    record->mutable_body()->set_string_value(r.body);
    otlp_encoding::add_attributes(*record->mutable_attributes(), r.attributes);
    if (r.trace_id) record->set_trace_id(r.trace_id->data(), r.trace_id->size());
    if (r.span_id) record->set_span_id(r.span_id->data(), r.span_id->size());
    record->set_flags(r.trace_flags);
  }
  return otlp_encoding::serialize(request, transport_.signal().encoding);
}

}  // namespace stratus::observe

// OTLP/HTTP export of log records (otlp/logs.proto, protobuf or JSON): the
// host's own lines and its guests' (wasi:logging, wasi:otel) queued by
// whoever logs (a BatchQueue: bounded, past max_queue they are dropped and
// counted, never waited for) and sent in batches by the queue's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "observe/host_log.h"  // Severity
#include "observe/otlp/config.h"
#include "observe/otlp/transport.h"
#include "observe/trace_context.h"
#include "support/result.h"

namespace stratus::observe {

struct LogData {
  uint64_t time_unix_ns = 0;  // 0: when it was observed only
  uint64_t observed_unix_ns = 0;
  int32_t severity_number = 0;  // 1-24 (Severity); 0 unspecified
  std::string severity_text;
  std::string body;
  Attributes attributes;
  // The span the record was made under (a request being served), if any.
  std::optional<TraceId> trace_id;
  std::optional<SpanId> span_id;
  uint8_t trace_flags = 0;
};

class LogExporter {
 public:
  // Errors: a logs URL that is not http://HOST[:PORT][/PATH].
  static Result<std::unique_ptr<LogExporter>> start(const OtlpConfig& config);
  // Sends what is queued (one attempt), then stops.
  ~LogExporter() = default;
  LogExporter(const LogExporter&) = delete;
  LogExporter& operator=(const LogExporter&) = delete;

  // Queues `record`; drops it (and counts it) when the queue is full.
  void submit(LogData record) { queue_->submit(std::move(record)); }
  uint64_t exported() const { return queue_->exported(); }
  uint64_t dropped() const { return queue_->dropped(); }
  const OtlpSignal& signal() const { return transport_.signal(); }

  // Where the exporter's own lines go (a collector that fails); stderr by
  // default. Never this exporter: its failures would feed themselves.
  void set_log(std::function<void(const std::string&)> log) { transport_.set_log(std::move(log)); }

 private:
  LogExporter(Attributes resource, OtlpTransport transport)
      : resource_(std::move(resource)), transport_(std::move(transport)) {}
  std::string encode(const std::vector<LogData>& batch) const;

  Attributes resource_;
  OtlpTransport transport_;
  std::unique_ptr<BatchQueue<LogData>> queue_;  // last: its thread uses the rest
};

}  // namespace stratus::observe

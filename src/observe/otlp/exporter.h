// OTLP/HTTP export of spans (otlp/trace.proto, protobuf or JSON): spans
// are queued by the request path (a BatchQueue: bounded, past max_queue
// they are dropped and counted, never waited for) and sent in batches by
// the queue's thread through the OtlpTransport (retries and back-off).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "observe/otlp/config.h"
#include "observe/otlp/transport.h"
#include "observe/trace_context.h"
#include "support/result.h"

namespace stratus::observe {

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  std::optional<SpanId> parent;
  std::string trace_state;
  uint8_t flags = 0;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_unix_ns = 0, end_unix_ns = 0;
  Attributes attributes;
  bool error = false;
  std::string status_message;
};

class TraceExporter {
 public:
  // Errors: a traces URL that is not http://HOST[:PORT][/PATH].
  static Result<std::unique_ptr<TraceExporter>> start(OtlpConfig config);
  // Sends what is queued (one attempt), then stops.
  ~TraceExporter() = default;
  TraceExporter(const TraceExporter&) = delete;
  TraceExporter& operator=(const TraceExporter&) = delete;

  // Queues `span`; drops it (and counts it) when the queue is full.
  void submit(SpanData span) { queue_->submit(std::move(span)); }

  uint64_t exported() const { return queue_->exported(); }
  uint64_t dropped() const { return queue_->dropped(); }  // queue full, or a batch given up on
  const OtlpConfig& config() const { return config_; }

  // Where the exporter's own lines go (a collector that fails); stderr by
  // default. Before the first span is submitted.
  void set_log(std::function<void(const std::string&)> log) { transport_.set_log(std::move(log)); }

 private:
  TraceExporter(OtlpConfig config, OtlpTransport transport)
      : config_(std::move(config)), transport_(std::move(transport)) {}
  std::string encode(const std::vector<SpanData>& batch) const;

  OtlpConfig config_;
  OtlpTransport transport_;
  std::unique_ptr<BatchQueue<SpanData>> queue_;  // last: its thread uses the rest
};

}  // namespace stratus::observe

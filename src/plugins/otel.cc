// wasi:otel (0.2.0-rc.2, as wasmCloud v2 hosts it): a guest's own spans,
// log records and metrics, handed to the host's OTLP exporters
// (HostOptions::otel) with the workload and component added; what no
// exporter takes is dropped, as an SDK without an exporter drops it. The
// host's span context (outer-span-context) is the span the guest runs under
// (observe/current_span.h: its invocation's, below the request's server span), so a guest's spans join the request's
// trace.
#include <charconv>
#include <nlohmann/json.hpp>

#include "observe/current_span.h"
#include "observe/otlp/exporter.h"
#include "observe/otlp/log_exporter.h"
#include "observe/otlp/metric_exporter.h"
#include "plugins/hosts.h"
#include "wasi_p2_bindings.h"

namespace stratus::plugins {
namespace {

namespace tracing = ::wasi::otel::tracing;
namespace logs = ::wasi::otel::logs;
namespace metrics = ::wasi::otel::metrics;
namespace types = ::wasi::otel::types;
using wit::HostResult;
using wit::Unit;

// `hex` as N bytes (2N hex digits, any case, not all zero).
template <size_t N>
std::optional<std::array<uint8_t, N>> parse_id(const std::string& hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<uint8_t, N> out{};
  bool zero = true;
  for (size_t i = 0; i < N; ++i) {
    auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc() || end != hex.data() + 2 * i + 2) return std::nullopt;
    zero = zero && out[i] == 0;
  }
  if (zero) return std::nullopt;
  return out;
}

uint64_t unix_ns(const ::wasi::clocks::wall_clock::Datetime& t) { return t.seconds * 1'000'000'000ull + t.nanoseconds; }

// An attribute value is AnyValue as JSON: scalars become ours; arrays,
// maps and bytes ("data:...") keep their text.
observe::AttributeValue attribute_value(const std::string& json) {
  auto v = nlohmann::json::parse(json, nullptr, false);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number()) return v.get<double>();
  return json;
}

observe::Attributes attributes_of(const std::vector<types::KeyValue>& list) {
  observe::Attributes out;
  out.reserve(list.size());
  for (const auto& kv : list) out.emplace_back(kv.key, attribute_value(kv.value));
  return out;
}

// What every instance of a component shares: where things go, who it is.
struct OtelContext {
  HostOptions::OtelSinks sinks;
  std::function<void(const LogRecord&)> log;  // the host's word on what it dropped
  std::string workload, component;

  void dropped(const std::string& what) const {
    log(LogRecord{LogLevel::kWarn, workload, component, "wasi:otel", what});
  }
  void add_who(observe::Attributes& a) const {
    a.emplace_back("stratus.workload", workload);
    a.emplace_back("stratus.component", component);
  }
};

class TracingHost final : public tracing::Host {
 public:
  explicit TracingHost(std::shared_ptr<const OtelContext> c) : c_(std::move(c)) {}

  HostResult<Unit> on_start(const tracing::SpanContext& context) override { return Unit{}; }

  HostResult<Unit> on_end(const tracing::SpanData& span) override {
    if (c_->sinks.traces == nullptr) return Unit{};
    observe::SpanData s;
    auto trace = parse_id<16>(span.span_context.trace_id);
    auto id = parse_id<8>(span.span_context.span_id);
    if (!trace || !id) {
      c_->dropped("span '" + span.name + "' dropped: its trace-id must be 32 and its span-id 16 hex digits, not zero");
      return Unit{};
    }
    s.trace_id = *trace;
    s.span_id = *id;
    if (!span.parent_span_id.empty()) {
      auto parent = parse_id<8>(span.parent_span_id);
      if (!parent) {
        c_->dropped("span '" + span.name + "' dropped: its parent-span-id '" + span.parent_span_id +
                    "' is not 16 hex digits");
        return Unit{};
      }
      s.parent = *parent;
    }
    for (const auto& [k, v] : span.span_context.trace_state)
      s.trace_state += (s.trace_state.empty() ? "" : ",") + k + "=" + v;
    s.flags = span.span_context.trace_flags.sampled ? 1 : 0;
    s.name = span.name;
    switch (span.span_kind) {
      case tracing::SpanKind::kClient: s.kind = observe::SpanKind::kClient; break;
      case tracing::SpanKind::kServer: s.kind = observe::SpanKind::kServer; break;
      case tracing::SpanKind::kProducer: s.kind = observe::SpanKind::kProducer; break;
      case tracing::SpanKind::kConsumer: s.kind = observe::SpanKind::kConsumer; break;
      case tracing::SpanKind::kInternal: s.kind = observe::SpanKind::kInternal; break;
    }
    s.start_unix_ns = unix_ns(span.start_time);
    s.end_unix_ns = unix_ns(span.end_time);
    s.attributes = attributes_of(span.attributes);
    if (!span.instrumentation_scope.name.empty())
      s.attributes.emplace_back("otel.scope.name", span.instrumentation_scope.name);
    c_->add_who(s.attributes);
    if (const auto* e = std::get_if<tracing::StatusError>(&span.status)) {
      s.error = true;
      s.status_message = e->value;
    }
    c_->sinks.traces->submit(std::move(s));
    return Unit{};
  }

  HostResult<tracing::SpanContext> outer_span_context() override {
    tracing::SpanContext out;
    if (const auto* span = observe::current_span()) {
      out.trace_id = observe::to_hex(span->trace_id.data(), span->trace_id.size());
      out.span_id = observe::to_hex(span->span_id.data(), span->span_id.size());
      out.trace_flags.sampled = (span->flags & 1) != 0;
    } else {
      // No request: the invalid context, from which an SDK starts a new trace.
      out.trace_id = std::string(32, '0');
      out.span_id = std::string(16, '0');
    }
    out.is_remote = false;
    return out;
  }

 private:
  std::shared_ptr<const OtelContext> c_;
};

class LogsHost final : public logs::Host {
 public:
  explicit LogsHost(std::shared_ptr<const OtelContext> c) : c_(std::move(c)) {}

  HostResult<Unit> on_emit(const logs::LogRecord& r) override {
    if (c_->sinks.logs == nullptr) return Unit{};
    observe::LogData d;
    d.observed_unix_ns = r.observed_timestamp ? unix_ns(*r.observed_timestamp) : observe::unix_now_ns();
    d.time_unix_ns = r.timestamp ? unix_ns(*r.timestamp) : 0;
    if (r.severity_number && *r.severity_number >= 1 && *r.severity_number <= 24)
      d.severity_number = *r.severity_number;
    d.severity_text = r.severity_text.value_or("");
    if (r.body) {
      auto v = attribute_value(*r.body);
      d.body = std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : *r.body;
    }
    if (r.attributes) d.attributes = attributes_of(*r.attributes);
    if (r.event_name) d.attributes.emplace_back("event.name", *r.event_name);
    c_->add_who(d.attributes);
    if (r.trace_id && r.span_id) {
      d.trace_id = parse_id<16>(*r.trace_id);
      d.span_id = parse_id<8>(*r.span_id);
      if (!d.trace_id || !d.span_id) d.trace_id.reset(), d.span_id.reset();
      d.trace_flags = r.trace_flags && r.trace_flags->sampled ? 1 : 0;
    } else if (const auto* span = observe::current_span()) {
      d.trace_id = span->trace_id;
      d.span_id = span->span_id;
      d.trace_flags = span->flags;
    }
    c_->sinks.logs->submit(std::move(d));
    return Unit{};
  }

 private:
  std::shared_ptr<const OtelContext> c_;
};

class MetricsHost final : public metrics::Host {
 public:
  explicit MetricsHost(std::shared_ptr<const OtelContext> c) : c_(std::move(c)) {}

  HostResult<wit::WitResult<Unit, std::string>> export_(const metrics::ResourceMetrics& in) override {
    using Out = wit::WitResult<Unit, std::string>;
    std::vector<observe::MetricData> out;
    for (const auto& scope : in.scope_metrics) {
      for (const auto& m : scope.metrics) {
        auto converted = convert(m);
        if (!converted) return Out::err("metric '" + m.name + "': " + converted.error().message);
        converted->scope = scope.scope.name;
        out.push_back(std::move(*converted));
      }
    }
    if (c_->sinks.metrics != nullptr) c_->sinks.metrics->submit(std::move(out));
    return Out::ok(Unit{});
  }

 private:
  static std::variant<int64_t, double> number(const metrics::MetricNumber& n) {
    if (const auto* f = std::get_if<metrics::MetricNumberF64>(&n)) return f->value;
    if (const auto* s = std::get_if<metrics::MetricNumberS64>(&n)) return s->value;
    uint64_t u = std::get<metrics::MetricNumberU64>(n).value;
    if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
    return static_cast<double>(u);
  }

  Result<observe::MetricData> convert(const metrics::Metric& m) const {
    observe::MetricData d;
    d.name = m.name;
    d.description = m.description;
    d.unit = m.unit;
    auto gauge = [&](const metrics::Gauge& g) {
      d.kind = observe::MetricData::Kind::kGauge;
      for (const auto& p : g.data_points) {
        observe::MetricPoint point;
        point.attributes = attributes_of(p.attributes);
        c_->add_who(point.attributes);
        point.start_unix_ns = g.start_time ? unix_ns(*g.start_time) : 0;
        point.time_unix_ns = unix_ns(g.time);
        point.value = number(p.value);
        d.points.push_back(std::move(point));
      }
    };
    auto sum = [&](const metrics::Sum& s) {
      d.kind = observe::MetricData::Kind::kSum;
      d.monotonic = s.is_monotonic;
      d.delta = s.temporality != metrics::Temporality::kCumulative;
      for (const auto& p : s.data_points) {
        observe::MetricPoint point;
        point.attributes = attributes_of(p.attributes);
        c_->add_who(point.attributes);
        point.start_unix_ns = unix_ns(s.start_time);
        point.time_unix_ns = unix_ns(s.time);
        point.value = number(p.value);
        d.points.push_back(std::move(point));
      }
    };
    auto histogram = [&](const metrics::Histogram& h) -> Result<void> {
      d.kind = observe::MetricData::Kind::kHistogram;
      d.delta = h.temporality != metrics::Temporality::kCumulative;
      for (const auto& p : h.data_points) {
        if (p.bucket_counts.size() != p.bounds.size() + 1)
          return make_error(std::to_string(p.bucket_counts.size()) + " bucket counts for " +
                            std::to_string(p.bounds.size()) + " bounds (want one more count than bounds)");
        observe::MetricPoint point;
        point.attributes = attributes_of(p.attributes);
        c_->add_who(point.attributes);
        point.start_unix_ns = unix_ns(h.start_time);
        point.time_unix_ns = unix_ns(h.time);
        point.count = p.count;
        auto s = number(p.sum);
        point.sum = std::holds_alternative<double>(s) ? std::get<double>(s) : static_cast<double>(std::get<int64_t>(s));
        point.bucket_counts = p.bucket_counts;
        point.bounds = p.bounds;
        d.points.push_back(std::move(point));
      }
      return {};
    };
    const auto& data = m.data;
    if (const auto* g = std::get_if<metrics::MetricDataF64Gauge>(&data))
      gauge(g->value);
    else if (const auto* g = std::get_if<metrics::MetricDataU64Gauge>(&data))
      gauge(g->value);
    else if (const auto* g = std::get_if<metrics::MetricDataS64Gauge>(&data))
      gauge(g->value);
    else if (const auto* s = std::get_if<metrics::MetricDataF64Sum>(&data))
      sum(s->value);
    else if (const auto* s = std::get_if<metrics::MetricDataU64Sum>(&data))
      sum(s->value);
    else if (const auto* s = std::get_if<metrics::MetricDataS64Sum>(&data))
      sum(s->value);
    else if (const auto* h = std::get_if<metrics::MetricDataF64Histogram>(&data))
      STRATUS_TRY(histogram(h->value));
    else if (const auto* h = std::get_if<metrics::MetricDataU64Histogram>(&data))
      STRATUS_TRY(histogram(h->value));
    else if (const auto* h = std::get_if<metrics::MetricDataS64Histogram>(&data))
      STRATUS_TRY(histogram(h->value));
    else
      return make_error("exponential histograms are not supported by stratus: use explicit bucket boundaries");
    return d;
  }

  std::shared_ptr<const OtelContext> c_;
};

class TypesHost final : public types::Host {};

}  // namespace

Result<void> define_otel(component::Linker& linker, wasi::p2::WasiHost& wasi, const HostOptions::OtelSinks& sinks,
                         const std::function<void(const LogRecord&)>& log, const ComponentScope& scope,
                         PluginState& state) {
  auto c =
      std::make_shared<OtelContext>(OtelContext{sinks, log ? log : log_to_stderr, scope.workload, scope.component});
  return wasi.define_extra(
      linker, [&](component::Linker& l, wasi::p2::WasiCtx&, wit::HostResources& resources) -> Result<void> {
        auto t = std::make_shared<TypesHost>();
        auto tr = std::make_shared<TracingHost>(c);
        auto lg = std::make_shared<LogsHost>(c);
        auto m = std::make_shared<MetricsHost>(c);
        state.objects.insert(state.objects.end(), {t, tr, lg, m});
        STRATUS_TRY(types::define(l, *t, resources));
        STRATUS_TRY(tracing::define(l, *tr, resources));
        STRATUS_TRY(logs::define(l, *lg, resources));
        return metrics::define(l, *m, resources);
      });
}

}  // namespace stratus::plugins

#include "observe/otlp/metric_exporter.h"

#include <map>

#include "metrics.pb.h"
#include "observe/otlp/encoding.h"

namespace stratus::observe {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The label names and values of a child as OTLP attributes, the names as
// OpenTelemetry spells them (http_request_method: http.request.method).
Attributes attributes_of(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  Attributes out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    std::string key = names[i];
    for (char& ch : key)
      if (ch == '_') ch = '.';
    out.emplace_back(std::move(key), values[i]);
  }
  return out;
}

class Encoder final : public FamilyVisitor {
 public:
  Encoder(stratus::otlp::ScopeMetrics& scope, uint64_t start_ns, uint64_t now_ns)
      : scope_(scope), start_ns_(start_ns), now_ns_(now_ns) {}

  void counter(const Family<Counter>& f) override {
    auto* sum = sum_of(f.name(), f.help());
    f.each([&](const std::vector<std::string>& values, const Counter& c) {
      auto* p = point(*sum->add_data_points(), f.label_names(), values);
      p->set_as_int(static_cast<int64_t>(c.value()));
    });
  }

  void gauge(const Family<Gauge>& f, MetricType type) override {
    if (type == MetricType::kMirroredCounter) {
      auto* sum = sum_of(f.name(), f.help());
      f.each([&](const std::vector<std::string>& values, const Gauge& g) {
        point(*sum->add_data_points(), f.label_names(), values)->set_as_double(g.value());
      });
      return;
    }
    auto* m = metric(f.name(), f.help(), false);
    auto* gauge = m->mutable_gauge();
    f.each([&](const std::vector<std::string>& values, const Gauge& g) {
      auto* p = gauge->add_data_points();
      p->set_time_unix_nano(now_ns_);
      otlp_encoding::add_attributes(*p->mutable_attributes(), attributes_of(f.label_names(), values));
      p->set_as_double(g.value());
    });
  }

  void histogram(const Family<Histogram>& f) override {
    auto* h = metric(f.name(), f.help(), false)->mutable_histogram();
    h->set_aggregation_temporality(stratus::otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
    f.each([&](const std::vector<std::string>& values, const Histogram& hist) {
      auto s = hist.snapshot();
      auto* p = h->add_data_points();
      p->set_start_time_unix_nano(start_ns_);
      p->set_time_unix_nano(now_ns_);
      otlp_encoding::add_attributes(*p->mutable_attributes(), attributes_of(f.label_names(), values));
      p->set_count(s.count);
      p->set_sum(s.sum);
      uint64_t below = 0;
      for (uint64_t cumulative : s.cumulative) {
        p->add_bucket_counts(cumulative - below);  // OTLP's counts are per bucket
        below = cumulative;
      }
      for (double bound : hist.bounds()) p->add_explicit_bounds(bound);
    });
  }

 private:
  stratus::otlp::Metric* metric(const std::string& name, const std::string& help, bool counter) {
    auto* m = scope_.add_metrics();
    auto otel = otel_metric_name(name, counter);
    m->set_name(otel.name);
    m->set_description(help);
    m->set_unit(otel.unit);
    return m;
  }
  stratus::otlp::Sum* sum_of(const std::string& name, const std::string& help) {
    auto* sum = metric(name, help, true)->mutable_sum();
    sum->set_aggregation_temporality(stratus::otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
    sum->set_is_monotonic(true);
    return sum;
  }
  stratus::otlp::NumberDataPoint* point(stratus::otlp::NumberDataPoint& p, const std::vector<std::string>& names,
                                        const std::vector<std::string>& values) const {
    p.set_start_time_unix_nano(start_ns_);
    p.set_time_unix_nano(now_ns_);
    otlp_encoding::add_attributes(*p.mutable_attributes(), attributes_of(names, values));
    return &p;
  }

  stratus::otlp::ScopeMetrics& scope_;
  uint64_t start_ns_, now_ns_;
};

}  // namespace

OtelMetricName otel_metric_name(const std::string& prometheus_name, bool counter) {
  std::string name = prometheus_name;
  if (counter && ends_with(name, "_total")) name.resize(name.size() - 6);
  std::string unit;
  for (auto [suffix, u] : {std::pair<std::string_view, const char*>{"_seconds", "s"}, {"_bytes", "By"}}) {
    if (ends_with(name, suffix)) {
      name.resize(name.size() - suffix.size());
      unit = u;
      break;
    }
  }
  // Names the semantic conventions spell with an underscore of their own.
  static constexpr std::pair<std::string_view, std::string_view> kConventions[] = {
      {"http_server_active_requests", "http.server.active_requests"},
  };
  for (auto [from, to] : kConventions)
    if (name == from) return {std::string(to), unit};
  for (char& c : name)
    if (c == '_') c = '.';
  return {name, unit};
}

MetricExporter::MetricExporter(const OtlpConfig& config, const Registry& registry, OtlpTransport transport)
    : registry_(registry),
      resource_(config.resource),
      interval_(config.metric_interval),
      start_unix_ns_(unix_now_ns()),
      transport_(std::move(transport)) {}

Result<std::unique_ptr<MetricExporter>> MetricExporter::start(const OtlpConfig& config, const Registry& registry) {
  auto transport = OtlpTransport::make("metrics", config.metrics, config.timeout, config.attempts);
  if (!transport) return transport.error();
  std::unique_ptr<MetricExporter> e(new MetricExporter(config, registry, std::move(*transport)));
  e->thread_ = std::thread([p = e.get()] { p->run(); });
  return e;
}

MetricExporter::~MetricExporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricExporter::submit(std::vector<MetricData> metrics) {
  constexpr size_t kMaxQueued = 1024;
  std::lock_guard lock(guest_mu_);
  for (auto& m : metrics) {
    if (guest_.size() >= kMaxQueued) {
      dropped_++;
      continue;
    }
    guest_.push_back(std::move(m));
  }
}

namespace {

void add_guest_metric(stratus::otlp::ScopeMetrics& scope, const MetricData& m) {
  auto* metric = scope.add_metrics();
  metric->set_name(m.name);
  metric->set_description(m.description);
  metric->set_unit(m.unit);
  auto temporality =
      m.delta ? stratus::otlp::AGGREGATION_TEMPORALITY_DELTA : stratus::otlp::AGGREGATION_TEMPORALITY_CUMULATIVE;
  auto number = [](stratus::otlp::NumberDataPoint& p, const MetricPoint& from) {
    p.set_start_time_unix_nano(from.start_unix_ns);
    p.set_time_unix_nano(from.time_unix_ns);
    otlp_encoding::add_attributes(*p.mutable_attributes(), from.attributes);
    if (const auto* i = std::get_if<int64_t>(&from.value))
      p.set_as_int(*i);
    else
      p.set_as_double(std::get<double>(from.value));
  };
  if (m.kind == MetricData::Kind::kGauge) {
    for (const auto& p : m.points) number(*metric->mutable_gauge()->add_data_points(), p);
  } else if (m.kind == MetricData::Kind::kSum) {
    auto* sum = metric->mutable_sum();
    sum->set_aggregation_temporality(temporality);
    sum->set_is_monotonic(m.monotonic);
    for (const auto& p : m.points) number(*sum->add_data_points(), p);
  } else {
    auto* h = metric->mutable_histogram();
    h->set_aggregation_temporality(temporality);
    for (const auto& from : m.points) {
      auto* p = h->add_data_points();
      p->set_start_time_unix_nano(from.start_unix_ns);
      p->set_time_unix_nano(from.time_unix_ns);
      otlp_encoding::add_attributes(*p->mutable_attributes(), from.attributes);
      p->set_count(from.count);
      p->set_sum(from.sum);
      for (uint64_t n : from.bucket_counts) p->add_bucket_counts(n);
      for (double b : from.bounds) p->add_explicit_bounds(b);
    }
  }
}

}  // namespace

std::string MetricExporter::encode() {
  stratus::otlp::ExportMetricsServiceRequest request;
  auto* rm = request.add_resource_metrics();
  otlp_encoding::add_attributes(*rm->mutable_resource()->mutable_attributes(), resource_);
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("stratus");
  Encoder encoder(*sm, start_unix_ns_, unix_now_ns());
  registry_.visit(encoder);
  std::vector<MetricData> guest;
  {
    std::lock_guard lock(guest_mu_);
    guest.swap(guest_);
  }
  std::map<std::string, stratus::otlp::ScopeMetrics*> scopes;
  for (const auto& m : guest) {
    auto*& scope = scopes[m.scope];
    if (scope == nullptr) {
      scope = rm->add_scope_metrics();
      scope->mutable_scope()->set_name(m.scope);
    }
    add_guest_metric(*scope, m);
  }
  return otlp_encoding::serialize(request, transport_.signal().encoding);
}

void MetricExporter::run() {
  lower_thread_priority();
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    bool last = stopping_;
    lock.unlock();
    if (transport_.send(encode(), 0, last))
      exported_++;
    else
      failed_++;
    lock.lock();
    if (last) return;
  }
}

}  // namespace stratus::observe

#include "observe/metrics.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace stratus::observe {

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // Few bounds (about fifteen): a linear scan beats a binary search's branches.
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  // The count is the +Inf bucket's, so the two never disagree in one scrape.
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

template <typename T>
T& Family<T>::with(const std::vector<std::string>& values) {
  if (values.size() != labels_.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(values.size()) + " label values for " +
                                std::to_string(labels_.size()) + " labels");
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[values];
  if (!slot) {
    if constexpr (std::is_same_v<T, Histogram>)
      slot = std::make_unique<Histogram>(bounds_);
    else
      slot = std::make_unique<T>();
  }
  return *slot;
}

template <typename T>
void Family<T>::clear() {
  std::unique_lock lock(mu_);
  children_.clear();
}

template <typename T>
void Family<T>::each(const std::function<void(const std::vector<std::string>&, const T&)>& f) const {
  std::shared_lock lock(mu_);
  for (const auto& [values, child] : children_) f(values, *child);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::check_name(const std::string& name) {
  bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':');
  if (!ok) throw std::invalid_argument("`" + name + "` is not a Prometheus metric name");
  for (const auto& f : counters_)
    if (f->name() == name) throw std::invalid_argument("the metric `" + name + "` is registered twice");
  for (const auto& f : gauges_)
    if (f->name() == name) throw std::invalid_argument("the metric `" + name + "` is registered twice");
  for (const auto& f : histograms_)
    if (f->name() == name) throw std::invalid_argument("the metric `" + name + "` is registered twice");
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  check_name(name);
  counters_.push_back(std::make_unique<Family<Counter>>(name, help, std::move(labels)));
  order_.emplace_back(MetricType::kCounter, counters_.back().get());
  return *counters_.back();
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return add_gauge(MetricType::kGauge, name, help, std::move(labels));
}

Family<Gauge>& Registry::mirrored_counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
  return add_gauge(MetricType::kMirroredCounter, name, help, std::move(labels));
}

Family<Gauge>& Registry::add_gauge(MetricType type, const std::string& name, const std::string& help,
                                   std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  check_name(name);
  gauges_.push_back(std::make_unique<Family<Gauge>>(name, help, std::move(labels)));
  order_.emplace_back(type, gauges_.back().get());
  return *gauges_.back();
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels, std::vector<double> bounds) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end())
    throw std::invalid_argument(name + ": histogram bounds must be increasing");
  std::lock_guard lock(mu_);
  check_name(name);
  histograms_.push_back(std::make_unique<Family<Histogram>>(name, help, std::move(labels), std::move(bounds)));
  order_.emplace_back(MetricType::kHistogram, histograms_.back().get());
  return *histograms_.back();
}

uint64_t Registry::on_collect(std::function<void()> collector) {
  std::lock_guard lock(mu_);
  collectors_.emplace(next_collector_, std::move(collector));
  return next_collector_++;
}

void Registry::remove_collector(uint64_t id) {
  std::lock_guard lock(mu_);
  collectors_.erase(id);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// `{a="x",b="y"}` (with `extra`, such as le="0.5", last); empty without labels.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i] + "=\"" + escape_label_value(values[i]) + '"';
  }
  if (!extra.empty()) out += (names.empty() ? "" : ",") + extra;
  return out + '}';
}

template <typename T>
void header(std::string& out, const Family<T>& f, const char* type) {
  out += "# HELP " + f.name() + ' ' + escape_help(f.help()) + '\n';
  out += "# TYPE " + f.name() + ' ' + type + '\n';
}

}  // namespace

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void Registry::visit(FamilyVisitor& visitor) const {
  std::vector<std::pair<MetricType, void*>> order;
  {
    // Under the lock: a collector removed meanwhile does not run after its
    // remove_collector returned.
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : collectors_) c();
    order = order_;
  }
  for (auto [type, p] : order) {
    if (type == MetricType::kCounter)
      visitor.counter(*static_cast<const Family<Counter>*>(p));
    else if (type == MetricType::kGauge || type == MetricType::kMirroredCounter)
      visitor.gauge(*static_cast<const Family<Gauge>*>(p), type);
    else
      visitor.histogram(*static_cast<const Family<Histogram>*>(p));
  }
}

namespace {

class Exposition final : public FamilyVisitor {
 public:
  std::string out;

  void counter(const Family<Counter>& f) override {
    header(out, f, "counter");
    f.each([&](const std::vector<std::string>& values, const Counter& c) {
      out += f.name() + label_set(f.label_names(), values) + ' ' + std::to_string(c.value()) + '\n';
    });
  }
  void gauge(const Family<Gauge>& f, MetricType type) override {
    header(out, f, type == MetricType::kGauge ? "gauge" : "counter");
    f.each([&](const std::vector<std::string>& values, const Gauge& g) {
      out += f.name() + label_set(f.label_names(), values) + ' ' + format_number(g.value()) + '\n';
    });
  }
  void histogram(const Family<Histogram>& f) override {
    header(out, f, "histogram");
    f.each([&](const std::vector<std::string>& values, const Histogram& h) {
      auto s = h.snapshot();
      auto bounds = h.bounds();
      for (size_t i = 0; i <= bounds.size(); ++i) {
        std::string le = "le=\"" + (i < bounds.size() ? format_number(bounds[i]) : std::string("+Inf")) + '"';
        out += f.name() + "_bucket" + label_set(f.label_names(), values, le) + ' ' + std::to_string(s.cumulative[i]) +
               '\n';
      }
      out += f.name() + "_sum" + label_set(f.label_names(), values) + ' ' + format_number(s.sum) + '\n';
      out += f.name() + "_count" + label_set(f.label_names(), values) + ' ' + std::to_string(s.count) + '\n';
    });
  }
};

}  // namespace

std::string Registry::expose() const {
  Exposition exposition;
  visit(exposition);
  return std::move(exposition.out);
}

}  // namespace stratus::observe

// A small metrics registry: counters, gauges and fixed-bucket histograms,
// each a family of children told apart by label values, written out in
// Prometheus's text exposition format (0.0.4). The request path only
// touches atomics: a caller resolves a child once (Family::with) and keeps
// the reference, children are never freed before the registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

namespace stratus::observe {

class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down, or one a collector sets at scrape time.
class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts of observations at or under each upper bound (the bounds are
// fixed when the family is made), their number and their sum.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf), not cumulative
  std::atomic<double> sum_{0};
};

// kMirroredCounter: a counter kept elsewhere (the engine's), whose value a
// collector copies into a Gauge child before each exposition.
enum class MetricType { kCounter, kGauge, kHistogram, kMirroredCounter };

// The children of one metric name, by label values (in label_names order).
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(label_names)), bounds_(std::move(bounds)) {}
  // The child for `values` (as many as label names), made on first use;
  // the reference stays valid as long as the family.
  T& with(const std::vector<std::string>& values);
  // Drops every child (a collector that sets gauges afresh each scrape).
  void clear();

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return labels_; }
  // Calls f(label values, child) for each child, in label order.
  void each(const std::function<void(const std::vector<std::string>&, const T&)>& f) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

// What Registry::visit shows: each family once, in the order made.
class FamilyVisitor {
 public:
  virtual ~FamilyVisitor() = default;
  virtual void counter(const Family<Counter>& family) = 0;
  // `type`: kGauge, or kMirroredCounter for a counter kept elsewhere.
  virtual void gauge(const Family<Gauge>& family, MetricType type) = 0;
  virtual void histogram(const Family<Histogram>& family) = 0;
};

class Registry {
 public:
  // Names must be new and valid Prometheus names ([a-zA-Z_:][a-zA-Z0-9_:]*);
  // a second family of the same name is a programming error (it throws).
  Family<Counter>& counter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  // A counter (TYPE counter) whose value a collector sets (Gauge::set)
  // from a count kept elsewhere; it may be fractional (seconds).
  Family<Gauge>& mirrored_counter(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                               std::vector<double> bounds);
  // Runs before each exposition (gauges of things counted elsewhere:
  // instances in pools, the engine's counters), under the registry's lock:
  // it must not make families. The id removes it again (remove_collector)
  // before what it reads goes away.
  uint64_t on_collect(std::function<void()> collector);
  void remove_collector(uint64_t id);
  // Runs the collectors, then shows `visitor` every family.
  void visit(FamilyVisitor& visitor) const;
  // Every family in the text exposition format, version 0.0.4.
  std::string expose() const;

 private:
  // A gauge family listed as `type` (kGauge or kMirroredCounter).
  Family<Gauge>& add_gauge(MetricType type, const std::string& name, const std::string& help,
                           std::vector<std::string> labels);
  void check_name(const std::string& name);
  mutable std::mutex mu_;
  uint64_t next_collector_ = 1;
  std::map<uint64_t, std::function<void()>> collectors_;
  // In the order they were made, which is the order they are written.
  std::vector<std::pair<MetricType, void*>> order_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
};

// The content type of Registry::expose's text.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// A label value or HELP text escaped as the exposition format wants
// (backslash, double quote (label values only) and newline).
std::string escape_label_value(std::string_view value);
// A number as the format writes it ("+Inf", "NaN", shortest round trip).
std::string format_number(double v);

}  // namespace stratus::observe

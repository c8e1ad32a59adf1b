// The metrics registry and its text exposition, and the request window of
// the status page.
#include "observe/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "observe/request_window.h"

namespace stratus::observe {
namespace {

TEST(MetricsTest, CounterAndGaugeExposition) {
  Registry r;
  auto& requests = r.counter("app_requests_total", "Requests served.", {"method"});
  auto& temp = r.gauge("app_temperature", "A gauge\nwith a newline in its help.");
  requests.with({"GET"}).add();
  requests.with({"GET"}).add(2);
  requests.with({"POST"}).add();
  temp.with({}).set(-1.5);
  EXPECT_EQ(r.expose(),
            "# HELP app_requests_total Requests served.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{method=\"GET\"} 3\n"
            "app_requests_total{method=\"POST\"} 1\n"
            "# HELP app_temperature A gauge\\nwith a newline in its help.\n"
            "# TYPE app_temperature gauge\n"
            "app_temperature -1.5\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  auto& h = r.histogram("op_seconds", "Op time.", {"op"}, {0.1, 1});
  auto& child = h.with({"read"});
  for (double v : {0.0625, 0.09375, 0.5, 2.0}) child.observe(v);
  EXPECT_EQ(r.expose(),
            "# HELP op_seconds Op time.\n"
            "# TYPE op_seconds histogram\n"
            "op_seconds_bucket{op=\"read\",le=\"0.1\"} 2\n"
            "op_seconds_bucket{op=\"read\",le=\"1\"} 3\n"
            "op_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"
            "op_seconds_sum{op=\"read\"} 2.65625\n"
            "op_seconds_count{op=\"read\"} 4\n");
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  r.counter("c_total", "c", {"path"}).with({"a\"b\\c\nd"}).add();
  EXPECT_NE(r.expose().find("c_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << r.expose();
}

TEST(MetricsTest, MirroredCounterIsACounterSetByItsCollector) {
  Registry r;
  auto& seconds = r.mirrored_counter("work_seconds_total", "Work time.");
  double elsewhere = 0.25;
  auto id = r.on_collect([&] { seconds.with({}).set(elsewhere); });
  EXPECT_NE(r.expose().find("# TYPE work_seconds_total counter\nwork_seconds_total 0.25\n"), std::string::npos);
  elsewhere = 3;
  EXPECT_NE(r.expose().find("work_seconds_total 3\n"), std::string::npos);
  r.remove_collector(id);
  elsewhere = 7;
  EXPECT_NE(r.expose().find("work_seconds_total 3\n"), std::string::npos);
}

TEST(MetricsTest, BadNamesAndDuplicatesAndWrongLabelCountsAreRefused) {
  Registry r;
  EXPECT_THROW(r.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("a.b", "x"), std::invalid_argument);
  r.counter("a_total", "x", {"l"});
  EXPECT_THROW(r.gauge("a_total", "x"), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(r.counter("b_total", "x", {"l"}).with({"v", "w"}), std::invalid_argument);
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& c = r.counter("n_total", "n").with({});
  auto& h = r.histogram("d_seconds", "d", {}, {0.5}).with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.add();
        h.observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative[0], 20000u);
  EXPECT_DOUBLE_EQ(s.sum, 20000 * 0.25 + 20000 * 1.0);
}

TEST(MetricsTest, NumbersAreFormattedAsTheFormatWants) {
  EXPECT_EQ(format_number(INFINITY), "+Inf");
  EXPECT_EQ(format_number(-INFINITY), "-Inf");
  EXPECT_EQ(format_number(NAN), "NaN");
  EXPECT_EQ(format_number(0.005), "0.005");
  EXPECT_EQ(format_number(10), "10");
}

TEST(RequestWindowTest, RateAndP99OverTheLastMinute) {
  RequestWindow w;
  // 99 fast requests and one slow one in second 1000, 20 more fast in 1030.
  for (int i = 0; i < 99; ++i) w.record(0.0008, 1000);
  w.record(2.0, 1000);
  for (int i = 0; i < 20; ++i) w.record(0.0008, 1030);
  auto s = w.summary(1030);
  EXPECT_EQ(s.requests, 120u);
  EXPECT_DOUBLE_EQ(s.requests_per_second, 120.0 / 60);
  EXPECT_DOUBLE_EQ(s.p99_seconds, 0.001);
  // A minute later second 1000 has left the window.
  s = w.summary(1060);
  EXPECT_EQ(s.requests, 20u);
  // Its slot, reused by second 1060, starts from nothing.
  w.record(0.2, 1060);
  s = w.summary(1060);
  EXPECT_EQ(s.requests, 21u);
  EXPECT_DOUBLE_EQ(s.p99_seconds, 0.25);
  EXPECT_EQ(w.summary(2000).requests, 0u);
  EXPECT_EQ(w.summary(2000).p99_seconds, 0);
}

}  // namespace
}  // namespace stratus::observe

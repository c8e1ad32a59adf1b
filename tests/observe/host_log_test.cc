// observe::HostLog: a sink of the host's lines with their severity, and
// one that takes the line alone.
#include "observe/host_log.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace stratus::observe {
namespace {

TEST(HostLogTest, ASinkGetsEachLineWithItsSeverity) {
  std::vector<std::pair<Severity, std::string>> got;
  HostLog log = [&](Severity s, const std::string& line) { got.emplace_back(s, line); };
  ASSERT_TRUE(log);
  log(Severity::kError, "a trap");
  log(Severity::kInfo, "NATS reconnected");
  HostLog copy = log;
  copy(Severity::kWarn, "refused");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::make_pair(Severity::kError, std::string("a trap")));
  EXPECT_EQ(got[1], std::make_pair(Severity::kInfo, std::string("NATS reconnected")));
  EXPECT_EQ(got[2], std::make_pair(Severity::kWarn, std::string("refused")));
}

TEST(HostLogTest, ASinkOfLinesAloneGetsTheLines) {
  std::vector<std::string> got;
  std::function<void(const std::string&)> print = [&](const std::string& line) { got.push_back(line); };
  HostLog log = print;
  log(Severity::kError, "one");
  log(Severity::kDebug, "two");
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  EXPECT_FALSE(HostLog{});
}

TEST(HostLogTest, SeverityNumbersAndTextsAreOpenTelemetrys) {
  EXPECT_EQ(static_cast<int>(Severity::kTrace), 1);
  EXPECT_EQ(static_cast<int>(Severity::kInfo), 9);
  EXPECT_EQ(static_cast<int>(Severity::kWarn), 13);
  EXPECT_EQ(static_cast<int>(Severity::kError), 17);
  EXPECT_STREQ(severity_text(Severity::kTrace), "TRACE");
  EXPECT_STREQ(severity_text(Severity::kDebug), "DEBUG");
  EXPECT_STREQ(severity_text(Severity::kInfo), "INFO");
  EXPECT_STREQ(severity_text(Severity::kWarn), "WARN");
  EXPECT_STREQ(severity_text(Severity::kError), "ERROR");
  EXPECT_STREQ(severity_text(Severity::kFatal), "FATAL");
}

}  // namespace
}  // namespace stratus::observe

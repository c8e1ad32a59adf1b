// The host's own log lines (the server's, the workload runtime's, the NATS
// link's) with the severity each was written at: a sink the CLI makes
// (stderr, and an OTLP log record with that severity) and the layers below
// write to. A sink that takes the line alone is accepted too (tests, a
// caller that prints only): the severity is dropped for it.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace stratus::observe {

// OpenTelemetry's severity numbers: the first of each range.
enum class Severity : int32_t { kTrace = 1, kDebug = 5, kInfo = 9, kWarn = 13, kError = 17, kFatal = 21 };

// OpenTelemetry's short names ("TRACE" ... "FATAL") of `s`'s range.
inline const char* severity_text(Severity s) {
  switch (s) {
    case Severity::kTrace: return "TRACE";
    case Severity::kDebug: return "DEBUG";
    case Severity::kInfo: return "INFO";
    case Severity::kWarn: return "WARN";
    case Severity::kError: return "ERROR";
    case Severity::kFatal: return "FATAL";
  }
  return "UNSPECIFIED";
}

class HostLog {
 public:
  HostLog() = default;
  template <typename F>
  requires(std::invocable<F&, Severity, const std::string&> && !std::same_as<std::remove_cvref_t<F>, HostLog>)
      HostLog(F sink)
      : sink_(std::move(sink)) {}  // NOLINT(google-explicit-constructor): a sink is a log
  template <typename F>
  requires(std::invocable<F&, const std::string&> && !std::invocable<F&, Severity, const std::string&>)
      HostLog(F sink)  // NOLINT(google-explicit-constructor)
      : sink_([sink = std::move(sink)](Severity, const std::string& line) mutable { sink(line); }) {}

  explicit operator bool() const { return static_cast<bool>(sink_); }
  void operator()(Severity severity, const std::string& line) const { sink_(severity, line); }

 private:
  std::function<void(Severity, const std::string&)> sink_;
};

}  // namespace stratus::observe

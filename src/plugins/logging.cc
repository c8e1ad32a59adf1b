// wasi:logging/logging: records at or above the configured level go to the
// host's sink, tagged with the workload and component.
#include <cstdio>
#include <ctime>

#include "plugins/hosts.h"

namespace stratus::plugins {
namespace {

namespace logging = ::wasi::logging::logging;
using wit::HostResult;
using wit::Unit;

// A guest's text may be of any length and hold anything: cut it, and
// escape what could end a line or move the cursor.
constexpr size_t kMaxText = 16 * 1024;

std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxText));
  for (char c : text.substr(0, kMaxText)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  if (text.size() > kMaxText) out += "...";
  return out;
}

class LoggingHost final : public logging::Host {
 public:
  LoggingHost(LogLevel min, std::function<void(const LogRecord&)> sink, const ComponentScope& scope)
      : min_(min), sink_(std::move(sink)), workload_(scope.workload), component_(scope.component) {}

  HostResult<Unit> log(const logging::Level& level, const std::string& context, const std::string& message) override {
    auto l = static_cast<LogLevel>(level);
    if (l < min_ || l > LogLevel::kCritical) return Unit{};
    sink_(LogRecord{l, workload_, component_, context, message});
    return Unit{};
  }

 private:
  LogLevel min_;
  std::function<void(const LogRecord&)> sink_;
  std::string workload_, component_;
};

}  // namespace

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kCritical: return "critical";
  }
  return "?";
}

int32_t otel_severity(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return 1;
    case LogLevel::kDebug: return 5;
    case LogLevel::kInfo: return 9;
    case LogLevel::kWarn: return 13;
    case LogLevel::kError: return 17;
    case LogLevel::kCritical: return 21;
  }
  return 0;
}

void log_to_stderr(const LogRecord& r) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string line = std::string(when) + " " + level_name(r.level) + " " + escaped(r.workload) + "/" +
                     escaped(r.component) + (r.context.empty() ? "" : " " + escaped(r.context)) + ": " +
                     escaped(r.message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

Result<void> define_logging(component::Linker& linker, LogLevel min_level,
                            const std::function<void(const LogRecord&)>& sink, const ComponentScope& scope,
                            PluginState& state) {
  auto host = std::make_shared<LoggingHost>(min_level, sink ? sink : log_to_stderr, scope);
  state.objects.push_back(host);
  return logging::define(linker, *host, state.resources);
}

}  // namespace stratus::plugins

#include "cli/limits.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

namespace stratus::cli {
namespace {

constexpr int kExitTrap = 134;
constexpr int kExitError = 1;

// "1.5ms" -> 1.5 and "ms"; nullopt when it does not start with a number.
std::optional<std::pair<double, std::string>> number_and_unit(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() || !std::isfinite(value) || value < 0) return std::nullopt;
  return std::make_pair(value, std::string(end, text.data() + text.size()));
}

void say(const std::string& line) { std::fprintf(stderr, "stratus: %s\n", line.c_str()); }

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return make_error("--timeout '" + text + "': " + why + " (e.g. 500ms, 1s, 2m)");
  };
  auto parsed = number_and_unit(text);
  if (!parsed) return bad("expected a number with a unit");
  auto [value, unit] = *parsed;
  double ns_per_unit = 0;
  if (unit == "ms") {
    ns_per_unit = 1e6;
  } else if (unit == "s") {
    ns_per_unit = 1e9;
  } else if (unit == "m") {
    ns_per_unit = 60e9;
  } else if (unit == "h") {
    ns_per_unit = 3600e9;
  } else {
    return bad(unit.empty() ? "the unit is missing" : "unknown unit '" + unit + "'");
  }
  double ns = value * ns_per_unit;
  if (ns < 1e6) return bad("shorter than a millisecond");
  if (ns > 1e18) return bad("too long");
  return std::chrono::nanoseconds(static_cast<int64_t>(ns));
}

Result<uint64_t> parse_size(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return make_error("--max-memory '" + text + "': " + why + " (e.g. 64MiB, 1G, 65536)");
  };
  auto parsed = number_and_unit(text);
  if (!parsed) return bad("expected a number of bytes, or one with K, M or G");
  auto [value, unit] = *parsed;
  double scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "K" || unit == "k" || unit == "KiB" || unit == "KB") {
    scale = 1024.0;
  } else if (unit == "M" || unit == "MiB" || unit == "MB") {
    scale = 1024.0 * 1024;
  } else if (unit == "G" || unit == "GiB" || unit == "GB") {
    scale = 1024.0 * 1024 * 1024;
  } else {
    return bad("unknown unit '" + unit + "'");
  }
  double bytes = value * scale;
  if (bytes < 65536) return bad("less than one 64 KiB Wasm page");
  if (bytes > 1e15) return bad("too large");
  return static_cast<uint64_t>(bytes);
}

std::string describe_size(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  const char* units[] = {"KiB", "MiB", "GiB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (u < 2 && v >= 1024) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v == std::floor(v) ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

Result<engine::InstanceLimits> LimitFlags::parse() const {
  engine::InstanceLimits limits;
  if (!timeout.empty()) {
    auto t = parse_duration(timeout);
    if (!t) return std::move(t).error();
    limits.call_timeout = *t;
  }
  if (!max_memory.empty()) {
    auto m = parse_size(max_memory);
    if (!m) return std::move(m).error();
    limits.max_memory_bytes = *m;
  }
  return limits;
}

std::string LimitFlags::note(const engine::Trap* trap) const {
  if (trap != nullptr && trap->kind == engine::TrapKind::Deadline && !timeout.empty())
    return "stopped by --timeout " + timeout;
  if (max_memory.empty()) return "";
  auto bytes = parse_size(max_memory);
  return "its memory is limited to " + (bytes ? describe_size(*bytes) : max_memory) + " by --max-memory";
}

void add_limit_flags(CLI::App& app, LimitFlags& flags) {
  app.add_option("--timeout", flags.timeout, "Stop the guest after DURATION (e.g. 500ms, 10s, 2m)");
  app.add_option("--max-memory", flags.max_memory,
                 "Limit the guest's memory to SIZE (e.g. 64MiB, 1G); memory.grow past it fails");
}

std::string with_note(const std::string& message, const std::string& note) {
  return note.empty() ? message : message + "; " + note;
}

int exit_code_under_limits(const std::string& file, int code, const LimitFlags& flags) {
  if (code != 0) {
    std::string note = flags.note(nullptr);
    if (!note.empty()) say(file + ": exited with code " + std::to_string(code) + "; " + note);
  }
  return code;
}

int finish_preview1(const std::string& file, const wasi::preview1::CommandOutcome& outcome, const LimitFlags& flags) {
  if (const auto* code = std::get_if<int>(&outcome)) return exit_code_under_limits(file, *code, flags);
  if (const auto* trap = std::get_if<engine::Trap>(&outcome)) {
    say(file + ": " + with_note(wasi::preview1::describe(*trap), flags.note(trap)));
    return kExitTrap;
  }
  const Error& error = std::get<Error>(outcome);
  // Engine errors may already start with the module name; don't say it twice.
  std::string message = error.message.rfind(file + ":", 0) == 0 ? error.message : file + ": " + error.message;
  say(with_note(message, flags.note(nullptr)));
  return kExitError;
}

}  // namespace stratus::cli

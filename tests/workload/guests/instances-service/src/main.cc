// A workload's service that makes instances of the workload's other
// members through stratus:workload/instances, calls them, drops them, and
// logs each outcome as "KEY: TEXT" (wasi:logging, context "instances"),
// "err: ..." for an error. What it does is its wasi:config `scenario`:
//   greet   greeter's greet("Ada"); probe's add twice in one instance,
//           then once in a new one (state lives with the instance)
//   errors  an unknown member, the service itself, bad arguments, an
//           unknown function, a trap, a call after the trap
//   grants  its own config `secret`, then the probe's `secret` and `mine`
//   cap     probes made (kept alive) until create fails
//   spin    a probe's call that never returns (until the workload stops)
//   memory  a probe growing its memory by 1 MiB, then by 64 MiB (its
//           member's memory limit is below that), then an async export
// It logs "done" at the end; the run then succeeds.
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "bindings.h"

namespace {

namespace api = ::stratus::workload::instances;
namespace logging = ::wasi::logging::logging;
constexpr const char* kAdd = "test:probe/probe#add";
constexpr const char* kConfig = "test:probe/probe#config";

void say(std::string_view key, std::string_view text) {
  logging::log(logging::Level::kInfo, "instances", std::string(key) + ": " + std::string(text));
}

std::string text(const std::expected<std::string, std::string>& r) { return r ? *r : "err: " + r.error(); }

void report_create(std::string_view key, std::string_view member) {
  auto made = api::Instance::create(member);
  say(key, made ? "made " + made->member() : "err: " + made.error());
}

std::string config(std::string_view key) {
  auto v = ::wasi::config::store::get(key);
  return v && *v ? **v : "none";
}

void greet() {
  auto greeter = api::Instance::create("greeter");
  if (!greeter) return say("greeter", "err: " + greeter.error());
  say("member", greeter->member());
  say("greet", text(greeter->call("example:greeter/greet@0.1.0#greet", "\"Ada\"")));
  {
    auto probe = api::Instance::create("probe");
    if (!probe) return say("probe", "err: " + probe.error());
    say("add1", text(probe->call(kAdd, "2, 3")));
    say("add2", text(probe->call(kAdd, "-4, 11")));
  }  // dropped: the next one starts afresh
  auto again = api::Instance::create("probe");
  if (!again) return say("probe", "err: " + again.error());
  say("add3", text(again->call(kAdd, "1, 1")));
}

void errors() {
  report_create("unknown", "nope");
  report_create("itself", "service");
  auto probe = api::Instance::create("probe");
  if (!probe) return say("probe", "err: " + probe.error());
  say("bad-args", text(probe->call(kAdd, "2, \"x\"")));
  say("few-args", text(probe->call(kAdd, "2")));
  say("no-function", text(probe->call("test:probe/probe#nope", "")));
  say("boom", text(probe->call("test:probe/probe#boom", "")));
  say("after-trap", text(probe->call(kAdd, "1, 2")));
}

void grants() {
  say("service-secret", config("secret"));
  auto probe = api::Instance::create("probe");
  if (!probe) return say("probe", "err: " + probe.error());
  say("probe-secret", text(probe->call(kConfig, "\"secret\"")));
  say("probe-mine", text(probe->call(kConfig, "\"mine\"")));
}

void cap() {
  std::vector<api::Instance> alive;
  for (int i = 0; i < 40; ++i) {
    auto made = api::Instance::create("probe");
    if (!made) return say("cap", std::to_string(alive.size()) + " made, then err: " + made.error());
    alive.push_back(std::move(*made));
  }
  say("cap", "no limit after 40");
}

void spin() {
  auto probe = api::Instance::create("probe");
  if (!probe) return say("probe", "err: " + probe.error());
  say("spin", text(probe->call("test:probe/probe#spin", "")));
}

void memory() {
  auto probe = api::Instance::create("probe");
  if (!probe) return say("probe", "err: " + probe.error());
  say("grow-1mib", text(probe->call("test:probe/probe#grow", "16")));
  say("grow-64mib", text(probe->call("test:probe/probe#grow", "1024")));
  say("add-async", text(probe->call("test:probe/probe#add-async", "20, 22")));
}

}  // namespace

namespace exports::wasi::cli::run {

std::expected<void, ::stratus_guest::Unit> run() {
  std::string scenario = config("scenario");
  if (scenario == "greet") greet();
  if (scenario == "errors") errors();
  if (scenario == "grants") grants();
  if (scenario == "cap") cap();
  if (scenario == "spin") spin();
  if (scenario == "memory") memory();
  say("done", scenario);
  return {};
}

}  // namespace exports::wasi::cli::run

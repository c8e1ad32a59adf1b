#include "wasi/p2/wasi.h"

#include "wasi/p2/filesystem.h"
#include "wasi/p2/hosts.h"
#include "wasi/p3/wasi.h"

namespace stratus::wasi::p2 {

struct WasiHost::Bindings {
  wit::HostResources resources;
  HostObjects objects;
};

WasiHost::WasiHost(WasiConfig config) : ctx_(std::move(config)), bindings_(std::make_unique<Bindings>()) {}
WasiHost::~WasiHost() = default;

component::ResourceTypePtr WasiHost::resource_type(const std::string& key) const {
  return bindings_->resources.by_key(key);
}

Result<void> WasiHost::add_to_linker(component::Linker& linker) {
  auto& b = *bindings_;
  // io first: the others use its resources (pollable, streams, error).
  STRATUS_TRY(define_io(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(define_clocks(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(define_random(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(define_cli(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(define_filesystem(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(define_sockets(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(define_http(linker, ctx_, b.resources, b.objects));
  STRATUS_TRY(p3::add_to_linker(linker, ctx_, b.resources, b.objects));
  return {};
}

Result<void> WasiHost::define_extra(component::Linker& linker, const Extra& define) {
  return define(linker, ctx_, bindings_->resources);
}

Result<CommandOutcome> run_command(engine::Engine& engine, const component::ComponentPtr& component, WasiConfig config,
                                   const component::InstantiateOptions& options) {
  // The run export, whatever 0.2.x or 0.3.x version the component was
  // built against (0.3's is async: its tasks may go on after it returns).
  std::string run;
  bool p3 = false;
  for (const auto& e : component->type->exports) {
    if (e.name.rfind("wasi:cli/run@0.2.", 0) == 0) run = e.name + "#run";
    if (e.name.rfind("wasi:cli/run@0.3.", 0) == 0) {
      run = e.name + "#run";
      p3 = true;
    }
  }
  if (run.empty())
    return make_error("the component does not export wasi:cli/run@0.2.x or @0.3.x (it is not a command)");
  WasiHost wasi(std::move(config));
  component::Linker linker(engine);
  STRATUS_TRY(wasi.add_to_linker(linker));
  auto instance = linker.instantiate(component, options);
  if (!instance) return std::move(instance).error();
  auto outcome = (*instance)->call(run, {});
  if (outcome.failed()) return outcome.error();
  if (p3 && outcome.returned()) {
    // What its tasks still do after `run` returned (writing the rest of
    // its output, say) runs to its end, within the call's time limit.
    if (auto stopped = linker.run_until_idle(options.limits.call_timeout)) outcome = *stopped;
  }
  CommandOutcome out;
  if (outcome.trapped()) {
    if (outcome.trap().kind == engine::TrapKind::Exit) {
      out.exit_code = outcome.trap().exit_code;
    } else {
      out.exit_code = 1;
      out.trap = outcome.trap();
    }
    return out;
  }
  // run returns result: ok -> 0, err -> 1.
  const auto& r = outcome.result();
  out.exit_code = r && r->kind() == component::ValKind::Result && r->discriminant() == 1 ? 1 : 0;
  return out;
}

}  // namespace stratus::wasi::p2

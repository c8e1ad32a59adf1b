// WASI 0.2 for components: the host side of wasi:io, wasi:clocks,
// wasi:random, wasi:cli and wasi:filesystem, written against the bindings
// the build generates from jco's WIT (0.2.12). A component importing any
// 0.2.x version links to these (the linker binds by semver).
//
//   WasiConfig config;                 // deny by default: grant what it needs
//   config.args = {"prog", "arg"};
//   WasiHost wasi(std::move(config));
//   Linker linker(engine);
//   wasi.add_to_linker(linker);
//   auto instance = linker.instantiate(component);
#pragma once

#include <functional>
#include <memory>

#include "component/runtime/runtime.h"
#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "wit/host_support.h"

namespace stratus::wasi::p2 {

class WasiHost {
 public:
  explicit WasiHost(WasiConfig config);
  ~WasiHost();
  WasiHost(const WasiHost&) = delete;
  WasiHost& operator=(const WasiHost&) = delete;

  WasiCtx& ctx() { return ctx_; }
  // Starts over with `config` and no handles, for the next instance this
  // host serves (the server runs one instance per request).
  void reset(WasiConfig config) { ctx_ = WasiCtx(std::move(config)); }
  // The runtime type of a resource this host defines, by "iface#name"
  // ("wasi:http/types@0.2.12#incoming-request"); null before add_to_linker.
  component::ResourceTypePtr resource_type(const std::string& key) const;

  // Defines every interface above in `linker`. The linker and what it
  // instantiates must not outlive this host.
  Result<void> add_to_linker(component::Linker& linker);

  // Lets `define` add interfaces of its own that use this host's resources
  // (wasi:io streams) and handles, as wasi:blobstore does; after
  // add_to_linker.
  using Extra = std::function<Result<void>(component::Linker&, WasiCtx&, wit::HostResources&)>;
  Result<void> define_extra(component::Linker& linker, const Extra& define);

 private:
  struct Bindings;
  WasiCtx ctx_;
  std::unique_ptr<Bindings> bindings_;
};

// What a command run ended with: its exit code (0 when `run` returned ok, 1
// for err, or the code given to wasi:cli/exit), or the trap that stopped it.
struct CommandOutcome {
  int exit_code = 0;
  std::optional<engine::Trap> trap;  // a trap other than exit
};

// Instantiates a wasi:cli/command component with `config` and calls its
// wasi:cli/run `run` export. Errors: the component does not export run, or
// an import is not provided.
Result<CommandOutcome> run_command(engine::Engine& engine, const component::ComponentPtr& component, WasiConfig config,
                                   const component::InstantiateOptions& options = {});

}  // namespace stratus::wasi::p2

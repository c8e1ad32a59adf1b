// WASI 0.3 (p3/wasi.h): every interface, under every version served.
#include "wasi/p3/wasi.h"

#include "wasi/p3/hosts.h"

namespace stratus::wasi::p3 {

Result<void> define_versions(component::Linker& linker, const std::string& interface,
                             Result<component::HostInstance> instance) {
  if (!instance.ok()) return std::move(instance).error();
  auto at = interface.rfind('@');
  if (at == std::string::npos) return make_error("interface `" + interface + "` has no version");
  std::string bare = interface.substr(0, at + 1);
  for (const char* version : kVersions) STRATUS_TRY(linker.define_instance(bare + version, *instance));
  return {};
}

Result<void> add_to_linker(component::Linker& linker, WasiCtx& ctx, wit::HostResources& resources, HostObjects& keep) {
  STRATUS_TRY(p3::define_clocks(linker, ctx, resources, keep));
  STRATUS_TRY(p3::define_random(linker, ctx, resources, keep));
  STRATUS_TRY(p3::define_cli(linker, ctx, resources, keep));
  STRATUS_TRY(p3::define_filesystem(linker, ctx, resources, keep));
  STRATUS_TRY(p3::define_http(linker, ctx, resources, keep));
  STRATUS_TRY(p3::define_sockets(linker, ctx, resources, keep));
  return {};
}

}  // namespace stratus::wasi::p3

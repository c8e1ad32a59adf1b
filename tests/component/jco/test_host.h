// A host for running real components in tests: it defines every import of a
// component from the type the component expects, with implementations
// registered by name ("wasi:cli/stdout@0.2.0#get-stdout", or a world-level
// "test") and a trap naming the function for any the test did not provide,
// as Wasmtime's `define_unknown_imports_as_traps` does. Each resource an
// imported interface defines becomes a host resource type whose handles the
// host hands out and gets back.
//
// add_wasi() supplies the WASI 0.2 functions wit-bindgen's test programs
// import through the preview 1 adapter: stdout and stderr (captured), an
// empty stdin, the wall clock, no preopens, no terminals. Nothing else is
// granted: there is no descriptor a guest could use.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "component/ast.h"
#include "component/runtime/runtime.h"

namespace stratus::test {

class TestHost {
 public:
  using Callback = component::HostFuncCallback;

  // `path` is "interface#function" or a world-level function's name.
  void implement(const std::string& path, Callback callback) { impls_[path] = std::move(callback); }

  // The host resource type for `resource` of interface `iface` (created on
  // first use; define_imports binds the component's to it).
  component::ResourceTypePtr resource(const std::string& iface, const std::string& resource);

  // A new handle value of a host resource, with `rep` as its representation.
  component::Val own(const std::string& iface, const std::string& resource, uint32_t rep) {
    return component::Val::own(component::ResourceRef{this->resource(iface, resource), rep});
  }

  // Leaves imports named `name` (an interface, with or without its version)
  // to the test, which defines them in the linker itself.
  void skip(const std::string& name) { skipped_.push_back(name); }

  // Defines every import of `component` in `linker` (but skipped ones).
  Result<void> define_imports(component::Linker& linker, const component::Component& component);

  // The WASI 0.2 subset (see above), for every 0.2.x version.
  void add_wasi();
  const std::string& stdout_text() const { return out_[kStdout]; }
  const std::string& stderr_text() const { return out_[kStderr]; }

  // Reps the host gave out and the guest dropped, by "iface#resource".
  const std::map<std::string, int>& drops() const { return drops_; }

 private:
  static constexpr int kStdout = 0;
  static constexpr int kStderr = 1;

  Result<component::HostInstance> host_instance(
      const std::string& iface, const component::InstanceType& type,
      std::map<const component::ResourceType*, component::ResourceTypePtr>& resources);
  component::HostFunc host_func(const std::string& path, component::FuncTypePtr type);

  std::map<std::string, Callback> impls_;
  std::vector<std::string> skipped_;
  std::map<std::string, component::ResourceTypePtr> resources_;
  std::map<std::string, int> drops_;
  std::string out_[2];
  std::map<uint32_t, int> output_streams_;  // rep -> kStdout / kStderr
  uint32_t next_rep_ = 1;
};

}  // namespace stratus::test

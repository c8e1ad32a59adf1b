// Instantiating components and calling them: the host's view.
//
//   auto component = decode_component(bytes);            // binary/decoder.h
//   Linker linker(engine);
//   linker.define_func("log", log_type, [](CallContext&, std::span<const Val> args) { ... });
//   auto instance = linker.instantiate(*component);
//   auto result = (*instance)->call("run", {});
//
// Imports are satisfied by name from what the linker defines: host functions,
// host instances (interfaces), host resource types, or another component
// instance's exports (host-mediated linking: values are lifted from the
// caller's memory and lowered into the callee's, once).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "component/ast.h"
#include "component/types.h"
#include "component/val.h"
#include "engine/engine.h"
#include "support/result.h"

namespace stratus::component {

class ComponentInstance;
class HostCall;
class Reactor;
class Store;

// What a call of a component function produced: its result (if the function
// has one), a trap (with the kind and message the spec or the guest gave),
// or an error that is not a trap (no such export, wrong argument types).
class CallOutcome {
 public:
  CallOutcome(std::optional<Val> result) : v_(std::move(result)) {}  // NOLINT(google-explicit-constructor)
  CallOutcome(engine::Trap trap) : v_(std::move(trap)) {}            // NOLINT(google-explicit-constructor)
  CallOutcome(Error error) : v_(std::move(error)) {}                 // NOLINT(google-explicit-constructor)

  bool returned() const { return v_.index() == 0; }
  bool trapped() const { return v_.index() == 1; }
  bool failed() const { return v_.index() == 2; }
  const std::optional<Val>& result() const { return std::get<0>(v_); }
  std::optional<Val>& result() { return std::get<0>(v_); }
  const engine::Trap& trap() const { return std::get<1>(v_); }
  const Error& error() const { return std::get<2>(v_); }

 private:
  std::variant<std::optional<Val>, engine::Trap, Error> v_;
};

// Passed to host functions: lets them reach the calling instance (for
// resources they hand out, for example).
struct CallContext {
  ComponentInstance* caller = nullptr;  // null when the host itself is calling
  Reactor* reactor = nullptr;           // the loop of the caller's store (null when the host calls)
};

// A host function receives lifted arguments and returns its result (nullopt
// for a function without one) or a trap.
using HostFuncCallback =
    std::function<std::variant<std::optional<Val>, engine::Trap>(CallContext&, std::span<const Val> args)>;
// An async host function (host_async.h) starts with the lifted arguments
// and ends later through `call`, without holding the store's thread: the
// caller's task blocks (or, lowered async, goes on with a subtask).
using AsyncHostFuncCallback = std::function<void(CallContext&, std::vector<Val> args, std::shared_ptr<HostCall> call)>;

struct HostFunc {
  HostFunc() = default;
  HostFunc(FuncTypePtr type, HostFuncCallback callback) : type(std::move(type)), callback(std::move(callback)) {}
  HostFunc(FuncTypePtr type, AsyncHostFuncCallback callback)
      : type(std::move(type)), async_callback(std::move(callback)) {}

  FuncTypePtr type;
  HostFuncCallback callback;
  AsyncHostFuncCallback async_callback;  // instead of `callback`
  std::string name;                      // for messages; the linker fills it in when empty
};

// A host-defined instance: an interface the host implements (for example
// `wasi:cli/environment@0.2.3`), with functions, resource types and value
// types by export name.
struct HostInstance {
  std::map<std::string, HostFunc> funcs;
  std::map<std::string, ResourceTypePtr> resources;
  std::map<std::string, ValType> types;  // value types the interface exports (`record datetime`)
};

class LinkObserver;

// One export of a component instance, offered to other components' imports.
struct ComponentExport {
  std::shared_ptr<ComponentInstance> instance;
  std::string name;
  std::shared_ptr<LinkObserver> observer;  // may be null (Linker::define_export)
};

// Placeholders of the resource types one instance exports, by export path
// ("iface#name"), handed to importers before the instance exists and set
// to its own types when it is made (ResourceType::stands_for).
using LazyResourceTypes = std::map<std::string, std::shared_ptr<ResourceType>>;

// One call through a link (LinkObserver::begin): what the callee runs
// under while the call is under way, and its end (the object's
// destruction: a result, a trap, or a cancelled call).
class LinkCall {
 public:
  virtual ~LinkCall() = default;
  // The trace context the callee works under (support/trace_slot.h).
  virtual void* trace_context() = 0;
  virtual void trapped(const engine::Trap& trap) = 0;
};

// Told of the calls through a lazy export's functions (the workload
// runtime's links make a span of each). Asked only when the caller works
// under a trace context (support/trace_slot.h): without one, a link call
// costs one thread-local load and a branch more than without an observer.
class LinkObserver {
 public:
  virtual ~LinkObserver() = default;
  // Before a call of `function` ("iface#name"); null: nothing to tell.
  virtual std::unique_ptr<LinkCall> begin(const std::string& function) = 0;
};

// An export of a component instance that is made on first use: the
// importer is given functions that call `instantiate` on their first call
// and then forward to the export's own (workload/ makes providers so, and
// a workload of many components starts as fast as one of one), and
// placeholders for the resource types the component defines and exports.
// An export whose functions involve resource types the component imports
// (another's) is made at once, when the importer is instantiated.
struct LazyExport {
  ComponentPtr component;  // what `instantiate` instantiates; the export's type is read from it
  std::string name;        // the export, of `component`
  // Called at most once per definition; its error traps the call that
  // needed the instance (or fails the importer's instantiation).
  std::function<Result<std::shared_ptr<ComponentInstance>>()> instantiate;
  // When several definitions (in several linkers) make the same instance:
  // shared by all of them, so that all importers see one type per resource.
  std::shared_ptr<LazyResourceTypes> resource_types;
  std::shared_ptr<LinkObserver> observer;  // may be null
};
struct LazyExportState;  // linker.cc

// One value the linker can hand to an import.
using LinkItem = std::variant<HostFunc, HostInstance, ResourceTypePtr, std::shared_ptr<ComponentInstance>,
                              ComponentExport, std::shared_ptr<LazyExportState>>;

struct InstantiateOptions {
  engine::InstanceLimits limits;  // applied to every core instance
  // Handles (resources, waitables, streams, futures, error contexts) each
  // component instance may hold at once: a guest leaking them traps there.
  uint32_t max_handles = 1u << 20;
  // The spec traps a synchronous `stream.cancel-read` (and the other
  // cancels) of an end that is in a waitable set. wit-bindgen's async
  // runtime up to 0.58 does just that when it drops a pending read, so
  // components built with it (jco's and Wasmtime's p3 test programs among
  // them) trap there. With this set such a cancel does what it did before
  // the rule: it cancels and waits for the copy's end. The command line
  // sets it; the spec tests do not.
  bool allow_sync_cancel_in_waitable_set = false;
};

// Compiles the core modules of `component` now, all at once as a linker's
// first instantiation of it does. With an engine that remembers modules
// (Engine::remembers_modules), a linker instantiating the component while
// the returned modules live takes them as they are: a host can compile a
// component while it does other work, before it needs an instance.
Result<std::vector<std::shared_ptr<engine::Module>>> compile_modules(engine::Engine& engine,
                                                                     const Component& component);

class Linker {
 public:
  explicit Linker(engine::Engine& engine);
  // A linker whose instances join `store`, another linker's (its store()).
  // Instances the host links to each other must share one: a task of one
  // waits on a subtask of the other, a stream made in one is read in the
  // other, and one event loop (run_until, or a blocked call) runs them all.
  Linker(engine::Engine& engine, std::shared_ptr<Store> store);
  ~Linker();
  Linker(const Linker&) = delete;
  Linker& operator=(const Linker&) = delete;

  engine::Engine& engine() const { return engine_; }
  // The store every instance this linker makes belongs to (their threads,
  // streams and futures interact through it).
  const std::shared_ptr<Store>& store() const { return store_; }
  // The host's side of that store's event loop (reactor.h).
  Reactor& reactor() const;
  // Runs that event loop (the guest threads that are ready, and the host's
  // work in the reactor) until `done` holds, for work that goes on after a
  // call returned (a guest writing a stream it returned, for example). A
  // trap when the store trapped, when nothing can progress any more (a
  // deadlock) or when `timeout` has passed.
  std::optional<engine::Trap> run_until(const std::function<bool()>& done,
                                        std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  // The same until nothing can run any more: the tasks that went on after
  // their calls returned have ended or wait for what will not come.
  std::optional<engine::Trap> run_until_idle(std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

  // Defines what an import of `name` gets. A name defined twice is an error.
  // Versioned interface names bind by semver the way Wasmtime does: an import
  // of `pkg/iface@0.2.x` binds to the newest `pkg/iface@0.2.y` defined.
  Result<void> define_func(const std::string& name, HostFunc func);
  Result<void> define_instance(const std::string& name, HostInstance instance);
  Result<void> define_resource(const std::string& name, ResourceTypePtr resource);
  // Satisfies the import `name` with a whole instance of another component
  // (host-mediated linking).
  Result<void> define_component_instance(const std::string& name, std::shared_ptr<ComponentInstance> instance);
  // Offers every export of `instance` under its own name, so that a
  // component importing an interface another one exports is linked to it
  // (wasmCloud's linking by interface name).
  Result<void> define_exports(const std::shared_ptr<ComponentInstance>& instance);
  // Satisfies the import `name` with one export, `export_name`, of another
  // component's instance; `observer`, when given, is told of the calls of
  // its functions made under a trace context, as a lazy export's are.
  Result<void> define_export(const std::string& name, const std::shared_ptr<ComponentInstance>& instance,
                             const std::string& export_name, std::shared_ptr<LinkObserver> observer = nullptr);
  // The same for a `name` defined already by define_export, for the
  // instances made from now on (those made before keep what they were
  // given): the members of an HTTP middleware chain, each linked to the
  // next, share one linker (workload/).
  Result<void> redefine_export(const std::string& name, const std::shared_ptr<ComponentInstance>& instance,
                               const std::string& export_name, std::shared_ptr<LinkObserver> observer = nullptr);

  // Satisfies the import `name` with the export of an instance made on the
  // first call (LazyExport). Errors: `lazy.component` has no such export.
  Result<void> define_lazy_export(const std::string& name, LazyExport lazy);

  // Instantiates `component`; every import must be defined with a matching
  // type, else the error names the import and what did not match.
  Result<std::shared_ptr<ComponentInstance>> instantiate(const ComponentPtr& component,
                                                         const InstantiateOptions& options = {});

  // The compiled form of a core module of a component this linker
  // instantiated (compiled once; all modules of a component are compiled
  // together on first instantiation, which the AOT backend turns into one
  // shared object).
  Result<std::shared_ptr<engine::Module>> compiled(const CoreModulePtr& module);

  // Compiles the core modules of `component` now, as its first
  // instantiation would; `name` names them in the engine's lines (the
  // tiered engine's "component NAME: serving on interp while aot compiles").
  Result<void> precompile(const ComponentPtr& component, const std::string& name);

 private:
  Result<void> compile_all(const Component& component, const std::string& name = "component core module");
  const LinkItem* find(const std::string& name) const;

  engine::Engine& engine_;
  std::shared_ptr<Store> store_;
  std::map<std::string, LinkItem> items_;
  // What each import name resolved to among host-defined items, made once
  // and shared by every instance (linker.cc); cleared when a definition is added.
  struct HostItems;
  std::unique_ptr<HostItems> host_items_;
  // How each top-level import of a component bound to a host item, replayed
  // by later instantiations (instance_state.h); cleared with host_items_.
  friend class Instantiator;
  struct BindCache;
  std::unique_ptr<BindCache> bind_cache_;
  std::map<const CoreModule*, std::pair<CoreModulePtr, std::shared_ptr<engine::Module>>> compiled_;
};

class ComponentInstance {
 public:
  virtual ~ComponentInstance() = default;

  // The component-level type of the export `name`; nullopt when absent.
  // Nested names go through instances: "wasi:cli/run@0.2.3#run".
  virtual std::optional<ExternType> export_type(std::string_view name) const = 0;
  // Calls the exported function `name` ("f", or "iface#f" for a function
  // of an exported instance) with lifted values; runs post-return after the
  // result was lifted.
  virtual CallOutcome call(std::string_view name, std::span<const Val> args) = 0;
  // Starts a call of `name` for each argument list at once (async-typed
  // functions then run concurrently: one may wait for what another does),
  // and runs the store's event loop until every one has resolved; the
  // outcomes in the same order. A trap ends them all.
  virtual std::vector<CallOutcome> call_concurrent(std::string_view name,
                                                   std::span<const std::vector<Val>> args_list) = 0;
  // Drops a resource the host received as `own` (runs its destructor).
  virtual Result<void> drop_resource(const ResourceRef& resource) = 0;

  // Makes this instance as fresh as a new instantiation of its component
  // with the same imports would be, in place: every core instance is
  // reinitialized (memories, tables, globals, segments, start functions) in
  // the order instantiation made them, and the handle tables and call
  // flags start empty. Much cheaper than instantiating anew: the runtime
  // objects (functions, aliases, canonical options) are kept. For a
  // top-level instance that is not running, whose last call did not trap,
  // and of which the host keeps no handle. An Error when the engine cannot
  // reinitialize in place (instantiate anew then) or a start function
  // trapped (the instance is then of no further use).
  virtual Result<void> reset() = 0;
  // Stops the call running in the instance, and any later one: each traps
  // with Deadline at its next check (a loop header or function entry; a
  // host call under way finishes first). Thread-safe. The instance cannot be
  // reset afterwards.
  virtual void interrupt() = 0;
  // The engine its core instances run on: "aot" or "interp" (with the
  // tiered engine, the tier it was made on).
  virtual std::string_view engine_name() const = 0;
};

}  // namespace stratus::component

// The runtime's internal view of a component instance: its index spaces
// while it is being instantiated, its handle table, the map from the static
// resource types in its definitions to the runtime ones, and the reentrance
// flags (CanonicalABI.md `ComponentInstance`). Private to runtime/.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "component/ast.h"
#include "component/canon/abi.h"
#include "component/runtime/async.h"
#include "component/runtime/handle_table.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"

namespace stratus::component {

class InstanceState;

// A component-level function: lifted from core code, defined by the host,
// or imported (then it is the provider's own RtFunc).
class RtFunc {
 public:
  RtFunc(FuncTypePtr type, InstanceState* owner) : type_(std::move(type)), owner_(owner) {}
  virtual ~RtFunc() = default;
  const FuncTypePtr& type() const { return type_; }
  // The instance whose definitions the type's static resource types belong
  // to; null for host functions (their types use runtime resource types).
  InstanceState* owner() const { return owner_; }
  // `caller` is the calling component instance, null when the host calls
  // (then the store's event loop runs until the call resolves).
  virtual CallOutcome call(InstanceState* caller, std::span<const Val> args) = 0;
  // The spec's FuncInst: starts a call that hands its arguments over through
  // `on_start` and its result through `on_resolve`, maybe after it returns
  // (a call that blocked); what it returns cancels such a call. A trap has
  // poisoned the store.
  virtual std::pair<MaybeTrap, OnCancel> invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) = 0;

 private:
  FuncTypePtr type_;
  InstanceState* owner_;
};
using RtFuncPtr = std::shared_ptr<RtFunc>;

struct RtInstance;
using RtInstancePtr = std::shared_ptr<RtInstance>;

// An entry of the `type` index space: the static definition, plus the
// runtime resource type when it is (or stands for) a resource.
struct RtType {
  std::variant<ValType, FuncTypePtr, ComponentTypePtr, InstanceTypePtr, ResourceTypePtr> type;
  ResourceTypePtr runtime_resource;
};

using RtItem = std::variant<RtFuncPtr, RtInstancePtr, RtType, ComponentPtr, CoreModulePtr>;
// Items by name; looked up with string_views (no key string made per lookup).
using RtItemMap = std::map<std::string, RtItem, std::less<>>;

// A component instance as its exports: what `alias export` reads and what
// an instance import receives.
struct RtInstance {
  RtItemMap exports;
  InstanceState* owner = nullptr;    // for resolving static types in export types; may be null
  std::shared_ptr<void> keep_alive;  // whatever must outlive these exports
};

// A core instance: instantiated from a module, or a bag of inline exports.
struct RtCoreInstance {
  std::shared_ptr<engine::Instance> instance;
  std::map<std::string, engine::Extern, std::less<>> exports;
  std::optional<engine::Extern> get(const std::string& name) const;
};

class InstanceState : public ComponentInstance, public std::enable_shared_from_this<InstanceState> {
 public:
  InstanceState(Linker& linker, InstanceState* parent, const InstantiateOptions& options)
      : linker_(linker), store_(linker.store()), parent_(parent), options_(options) {
    handles_.set_limit(options.max_handles);
  }
  ~InstanceState() override;

  // ComponentInstance
  std::optional<ExternType> export_type(std::string_view name) const override;
  CallOutcome call(std::string_view name, std::span<const Val> args) override;
  std::vector<CallOutcome> call_concurrent(std::string_view name, std::span<const std::vector<Val>> args_list) override;
  Result<void> drop_resource(const ResourceRef& resource) override;
  Result<void> reset() override;
  void interrupt() override;
  std::string_view engine_name() const override { return engine().name(); }

  // Root only: the engine its core instances come from, a tier of the
  // linker's (engine.h tier_for), chosen when instantiation begins;
  // `module`, a module of its component, tells when a newer tier is ready.
  void set_tier(engine::Engine& tier, std::shared_ptr<engine::Module> module) {
    tier_ = &tier;
    tier_module_ = std::move(module);
  }

  // Walks the definitions of `component`, with `args` satisfying its
  // imports by name. A trap in a core start function comes back as an Error
  // that says so.
  Result<void> instantiate(const ComponentPtr& component, const RtItemMap& args);

  // The runtime resource type a static one (from this instance's
  // definitions) stands for; itself when unmapped (host types).
  ResourceTypePtr resolve(const ResourceTypePtr& static_type) const;
  // Records that the static resource type `static_type` stands for `runtime`
  // in this instance (imports, definitions, exports with a resource bound).
  void bind_resource(const ResourceTypePtr& static_type, ResourceTypePtr runtime) {
    if (recording_ != nullptr) recording_->emplace_back(static_type, runtime);
    resource_map_[static_type.get()] = std::move(runtime);
  }
  using Bindings = std::vector<std::pair<ResourceTypePtr, ResourceTypePtr>>;

  HandleTable& handles() { return handles_; }
  void keep(std::vector<std::shared_ptr<void>> objects) {
    for (auto& o : objects) keep_alive_.push_back(std::move(o));
  }
  InstanceState* parent() const { return parent_; }
  const RtInstancePtr& exports() const { return exports_; }

  // Reentrance (CanonicalABI.md may_enter_from / enter_from / leave_to).
  bool may_enter_from(const InstanceState* caller) const;
  void enter_from(const InstanceState* caller);
  void leave_to(const InstanceState* caller);
  bool may_leave = true;
  // The async runtime's state of the instance (CanonicalABI.md
  // ComponentInstance): its threads by index, backpressure, the tasks
  // waiting to enter and the thread holding the exclusive lock.
  std::vector<Thread*> threads{nullptr};
  std::vector<uint32_t> free_threads;
  uint32_t backpressure = 0;
  uint32_t num_waiting_to_enter = 0;
  Thread* exclusive_thread = nullptr;
  uint32_t running_tasks = 0;  // tasks with a thread in this instance
  Store& store() const { return *store_; }
  // The thread of core code that runs outside any call (start functions).
  Thread& outside_thread();
  // A trap ended a call into this instance: it cannot be entered again.
  bool poisoned() const { return root_poisoned(); }
  void poison() {
    InstanceState* s = this;
    while (s->parent_ != nullptr) s = s->parent_;
    s->poisoned_ = true;
  }

  engine::Engine& engine() const;
  const InstantiateOptions& options() const { return options_; }

 private:
  friend class Instantiator;
  std::vector<InstanceState*> entering_set(const InstanceState* caller) const;
  InstanceState& root() {
    InstanceState* s = this;
    while (s->parent_ != nullptr) s = s->parent_;
    return *s;
  }
  void clear_call_state();
  // Whether it or a child holds a stream or future end.
  bool holds_channel_end() const;
  bool root_poisoned() const {
    const InstanceState* s = this;
    while (s->parent_ != nullptr) s = s->parent_;
    return s->poisoned_;
  }

  Linker& linker_;
  std::shared_ptr<Store> store_;
  InstanceState* parent_;
  ComponentPtr component_;  // keeps the static types the resource map is keyed by alive
  InstantiateOptions options_;
  bool may_enter_ = true;
  HandleTable handles_;
  std::map<const ResourceType*, ResourceTypePtr> resource_map_;
  Bindings* recording_ = nullptr;  // bind_resource also appends here while set

  // Index spaces.
  std::vector<CoreModulePtr> core_modules_;
  std::vector<std::shared_ptr<RtCoreInstance>> core_instances_;
  std::vector<engine::Extern> core_funcs_, core_tables_, core_memories_, core_globals_, core_tags_;
  size_t core_types_ = 0;
  std::vector<ComponentPtr> components_;
  std::vector<RtInstancePtr> instances_;
  std::vector<RtType> types_;
  // Each function with its type as this component sees it (its static
  // resource types are this instance's).
  struct FuncEntry {
    RtFuncPtr func;
    FuncTypePtr type;
  };
  std::vector<FuncEntry> funcs_;

  RtInstancePtr exports_ = std::make_shared<RtInstance>();
  std::vector<std::shared_ptr<InstanceState>> children_;
  // In the root only: every core instance of the tree, in the order
  // instantiation made them (reset() reinitializes them in that order).
  std::vector<std::shared_ptr<engine::Instance>> core_order_;
  engine::Engine* tier_ = nullptr;  // root only; null: the linker's engine
  std::shared_ptr<engine::Module> tier_module_;
  std::atomic<bool> interrupted_{false};  // interrupt() was called: never reset
  bool unusable_ = false;                 // a call did not return, or a reset failed part way
  bool poisoned_ = false;                 // root only: a call trapped
  std::shared_ptr<Thread> outside_thread_;
  std::vector<std::shared_ptr<void>> keep_alive_;  // imported instances, host callbacks
};

// A top-level import's check against a host item depends only on the
// import, the item and the bindings made before it, which are the same on
// every instantiation of a component by one linker: so the check runs once
// and later instantiations replay the resource bindings it made. Each entry
// keeps its component, so the import it points into stays alive.
struct Linker::BindCache {
  struct Entry {
    ComponentPtr component;
    InstanceState::Bindings bindings;
  };
  std::map<std::pair<const void*, const void*>, Entry> entries;  // (import definition, host item)
};

// Whether two value types are the same, each with the instance its static
// resource types belong to (null: runtime types).
bool same_type(const InstanceState* ao, const ValType& a, const InstanceState* bo, const ValType& b);
bool same_opt(const InstanceState* ao, const std::optional<ValType>& a, const InstanceState* bo,
              const std::optional<ValType>& b);

// Looks `name` up in an instance's exports, going through nested instances
// for "iface#f" paths.
const RtItem* find_export(const RtInstance& instance, std::string_view name);

// Whether `actual` may be supplied where `expected` is required, binding the
// abstract resource types `expected` introduces in `importer`. The error says
// what did not match.
Result<void> bind_import(InstanceState& importer, const ExternType& expected, const RtItem& actual,
                         const std::string& path);

}  // namespace stratus::component

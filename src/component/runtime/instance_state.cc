#include "component/runtime/instance_state.h"

#include <algorithm>

#include "component/runtime/funcs.h"

namespace stratus::component {

std::optional<engine::Extern> RtCoreInstance::get(const std::string& name) const {
  if (instance) return instance->get_export(name);
  auto it = exports.find(name);
  if (it == exports.end()) return std::nullopt;
  return it->second;
}

InstanceState::~InstanceState() {
  // Fibers parked in this instance unwind before its memories go.
  try {
    if (store_) store_->unwind_parked(this);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor; what unwinding could not do stays undone
  }
}

Thread& InstanceState::outside_thread() {
  if (!outside_thread_) {
    static const FuncType kOutside{};
    static const RtCanonOptions kNoOptions{};
    auto task = std::make_shared<Task>(&kOutside, &kNoOptions, this, nullptr, nullptr);
    outside_thread_ = std::make_shared<Thread>(task, nullptr, false);
  }
  return *outside_thread_;
}

engine::Engine& InstanceState::engine() const {
  const InstanceState* s = this;
  while (s->parent_ != nullptr) s = s->parent_;
  return s->tier_ != nullptr ? *s->tier_ : linker_.engine();
}

ResourceTypePtr InstanceState::resolve(const ResourceTypePtr& static_type) const {
  for (const InstanceState* s = this; s != nullptr; s = s->parent_) {
    auto it = s->resource_map_.find(static_type.get());
    if (it != s->resource_map_.end()) return settled(it->second);
  }
  return settled(static_type);
}

std::vector<InstanceState*> InstanceState::entering_set(const InstanceState* caller) const {
  std::vector<const InstanceState*> callers;
  for (const InstanceState* c = caller; c != nullptr; c = c->parent_) callers.push_back(c);
  std::vector<InstanceState*> out;
  for (auto* s = const_cast<InstanceState*>(this); s != nullptr; s = s->parent_)
    if (std::find(callers.begin(), callers.end(), s) == callers.end()) out.push_back(s);
  return out;
}

bool InstanceState::may_enter_from(const InstanceState* caller) const {
  // The reference tests (async/trap-on-reenter.wast) trap, "for now", on
  // calls between a component instance and its own parent or child, in
  // either direction; siblings and the host may call.
  if (caller != nullptr && caller != this) {
    for (const InstanceState* s = parent_; s != nullptr; s = s->parent_)
      if (s == caller) return false;
    for (const InstanceState* s = caller->parent_; s != nullptr; s = s->parent_)
      if (s == this) return false;
  }
  for (auto* s : entering_set(caller))
    if (!s->may_enter_) return false;
  return true;
}

void InstanceState::enter_from(const InstanceState* caller) {
  for (auto* s : entering_set(caller)) s->may_enter_ = false;
}

void InstanceState::leave_to(const InstanceState* caller) {
  for (auto* s : entering_set(caller)) s->may_enter_ = true;
}

const RtItem* find_export(const RtInstance& instance, std::string_view name) {
  auto hash = name.find('#');
  if (hash != std::string_view::npos) {
    const RtItem* outer = find_export(instance, name.substr(0, hash));
    if (outer == nullptr) return nullptr;
    const auto* nested = std::get_if<RtInstancePtr>(outer);
    if (nested == nullptr || *nested == nullptr) return nullptr;
    return find_export(**nested, name.substr(hash + 1));
  }
  auto it = instance.exports.find(name);
  return it == instance.exports.end() ? nullptr : &it->second;
}

std::optional<ExternType> InstanceState::export_type(std::string_view name) const {
  const RtItem* item = find_export(*exports_, name);
  if (item == nullptr) return std::nullopt;
  if (const auto* f = std::get_if<RtFuncPtr>(item)) return ExternType((*f)->type());
  if (const auto* t = std::get_if<RtType>(item)) {
    TypeBound bound;
    if (t->runtime_resource) {
      bound.type = settled(t->runtime_resource);
    } else if (const auto* v = std::get_if<ValType>(&t->type)) {
      bound.type = *v;
    }
    return ExternType(bound);
  }
  if (std::holds_alternative<RtInstancePtr>(*item)) {
    auto type = std::make_shared<InstanceType>();
    for (const auto& [export_name, unused] : std::get<RtInstancePtr>(*item)->exports) {
      (void)unused;
      auto t = export_type(std::string(name) + "#" + export_name);
      if (t) type->exports.push_back({export_name, *t});
    }
    return ExternType(InstanceTypePtr(type));
  }
  return std::nullopt;
}

CallOutcome InstanceState::call(std::string_view name, std::span<const Val> args) {
  const RtItem* item = find_export(*exports_, name);
  if (item == nullptr) return make_error("no export named `" + std::string(name) + "`");
  const auto* f = std::get_if<RtFuncPtr>(item);
  if (f == nullptr) return make_error("export `" + std::string(name) + "` is not a function");
  if (root_poisoned()) return engine::Trap{engine::TrapKind::Other, "cannot enter component instance", 0};
  auto outcome = (*f)->call(nullptr, args);
  // A call that did not return may have left the instance half way through
  // something: only a new instantiation makes it fresh again.
  if (!outcome.returned()) root().unusable_ = true;
  if (outcome.trapped()) {
    // The spec's trap ends the instance; what it left parked unwinds, and
    // the rest of the store goes on.
    root().poisoned_ = true;
    store_->unwind_parked(&root());
    store_->clear_trap();
  }
  return outcome;
}

std::vector<CallOutcome> InstanceState::call_concurrent(std::string_view name,
                                                        std::span<const std::vector<Val>> args_list) {
  auto fail = [&](CallOutcome o) { return std::vector<CallOutcome>(args_list.size(), o); };
  const RtItem* item = find_export(*exports_, name);
  const auto* f = item == nullptr ? nullptr : std::get_if<RtFuncPtr>(item);
  if (f == nullptr) return fail(make_error("no function export named `" + std::string(name) + "`"));
  if (root_poisoned()) return fail(engine::Trap{engine::TrapKind::Other, "cannot enter component instance", 0});
  for (const auto& args : args_list) {
    if (args.size() != (*f)->type()->params.size()) return fail(make_error("wrong number of arguments"));
    for (size_t i = 0; i < args.size(); ++i)
      if (auto ok = check_type(args[i], (*f)->type()->params[i].type); !ok.ok())
        return fail(std::move(ok).error().context("argument `" + (*f)->type()->params[i].name + "`"));
  }
  std::vector<std::optional<Resolution>> results(args_list.size());
  std::vector<std::vector<Val>> owned(args_list.begin(), args_list.end());
  MaybeTrap trapped;
  for (size_t i = 0; i < owned.size() && !trapped; ++i) {
    trapped = (*f)->invoke(
                      nullptr, [&owned, i]() -> std::optional<std::vector<Val>> { return std::move(owned[i]); },
                      [&results, i](Resolution r) { results[i] = std::move(r); })
                  .first;
  }
  auto all_done = [&] {
    for (const auto& r : results)
      if (!r) return false;
    return true;
  };
  if (!trapped) trapped = run_event_loop(*store_, all_done, options_.limits.call_timeout);
  if (trapped) {
    root().unusable_ = true;
    root().poisoned_ = true;
    store_->unwind_parked(&root());
    store_->clear_trap();
    return fail(*trapped);
  }
  std::vector<CallOutcome> out;
  for (auto& r : results) {
    if (r->cancelled) {
      out.emplace_back(engine::Trap{engine::TrapKind::Other, "the call was cancelled", 0});
    } else {
      out.emplace_back(std::move(r->value));
    }
  }
  return out;
}

Result<void> InstanceState::drop_resource(const ResourceRef& resource) {
  if (!resource.resource) return make_error("drop of a null resource");
  auto t = destroy_resource(resource.resource, resource.rep, nullptr);
  if (t) {
    root().unusable_ = true;
    return make_error("destructor trapped: " + t->message);
  }
  return {};
}

void InstanceState::clear_call_state() {
  handles_ = HandleTable();
  handles_.set_limit(options_.max_handles);
  may_enter_ = true;
  may_leave = true;
  threads.assign(1, nullptr);
  free_threads.clear();
  backpressure = 0;
  num_waiting_to_enter = 0;
  exclusive_thread = nullptr;
  for (auto& child : children_) child->clear_call_state();
}

bool InstanceState::holds_channel_end() const {
  for (const auto& h : handles_.async_elements()) {
    auto kind = h->kind;
    if (kind == AsyncHandle::Kind::StreamReadable || kind == AsyncHandle::Kind::StreamWritable ||
        kind == AsyncHandle::Kind::FutureReadable || kind == AsyncHandle::Kind::FutureWritable)
      return true;
  }
  return std::any_of(children_.begin(), children_.end(), [](const auto& c) { return c->holds_channel_end(); });
}

Result<void> InstanceState::reset() {
  if (parent_ != nullptr) return make_error("reset: only a top-level instance can be reset");
  if (unusable_) return make_error("reset: a call into the instance did not return, or an earlier reset failed");
  if (interrupted_) return make_error("reset: the instance was interrupted");
  if (!may_enter_ || poisoned_) return make_error("reset: the instance is running or trapped");
  for (const auto& t : store_->live)
    for (const InstanceState* s = t.second->task().inst; s != nullptr; s = s->parent_)
      if (s == this) return make_error("reset: a task of the instance is still running");
  // An end it holds belongs to a channel whose other end may live in
  // another instance (a link) or the host: starting over would cut it
  // without the other side seeing a drop.
  if (holds_channel_end()) return make_error("reset: the instance still holds an end of a stream or future");
  // A faster tier is ready (the tiered engine's aot code): the instance
  // retires, and the pool that kept it makes the next one there.
  if (tier_module_ && &linker_.engine().tier_for(*tier_module_) != tier_)
    return make_error("reset: the instance runs on " + std::string(tier_->name()) +
                      ", its component's code is ready on " +
                      std::string(linker_.engine().tier_for(*tier_module_).name()) + ": instantiate anew");
  clear_call_state();
  for (size_t i = 0; i < core_order_.size(); ++i) {
    auto done = core_order_[i]->reinitialize();
    if (auto* e = std::get_if<Error>(&done)) {
      unusable_ = true;  // part old, part new
      return std::move(*e).context("reset: core instance " + std::to_string(i));
    }
    if (auto* t = std::get_if<engine::Trap>(&done)) {
      unusable_ = true;
      return make_error("reset: core instance " + std::to_string(i) + " start trapped: " + t->message);
    }
  }
  return {};
}

void InstanceState::interrupt() {
  // core_order_ is written by instantiation only, read-only afterwards:
  // safe from another thread.
  interrupted_ = true;
  for (const auto& core : core_order_) core->interrupt();
}

// ------------------------------------------------------------ import matching

namespace {

bool same_resource(const InstanceState* a_owner, const ResourceTypePtr& a, const InstanceState* b_owner,
                   const ResourceTypePtr& b) {
  auto ra = a_owner ? a_owner->resolve(a) : settled(a);
  auto rb = b_owner ? b_owner->resolve(b) : settled(b);
  return ra == rb;
}

}  // namespace

bool same_opt(const InstanceState* ao, const std::optional<ValType>& a, const InstanceState* bo,
              const std::optional<ValType>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || same_type(ao, *a, bo, *b);
}

bool same_type(const InstanceState* ao, const ValType& a, const InstanceState* bo, const ValType& b) {
  if (a.is_primitive() || b.is_primitive())
    return a.is_primitive() && b.is_primitive() && a.primitive() == b.primitive();
  if (a.defined_ptr() == b.defined_ptr() && ao == bo) return true;
  const auto& ka = a.defined().kind;
  const auto& kb = b.defined().kind;
  if (ka.index() != kb.index()) return false;
  return std::visit(
      [&](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const auto& y = std::get<T>(kb);
        if constexpr (std::is_same_v<T, RecordType>) {
          if (x.fields.size() != y.fields.size()) return false;
          for (size_t i = 0; i < x.fields.size(); ++i)
            if (x.fields[i].name != y.fields[i].name || !same_type(ao, x.fields[i].type, bo, y.fields[i].type))
              return false;
          return true;
        } else if constexpr (std::is_same_v<T, VariantType>) {
          if (x.cases.size() != y.cases.size()) return false;
          for (size_t i = 0; i < x.cases.size(); ++i)
            if (x.cases[i].name != y.cases[i].name || !same_opt(ao, x.cases[i].type, bo, y.cases[i].type)) return false;
          return true;
        } else if constexpr (std::is_same_v<T, ListType>) {
          return x.length == y.length && same_type(ao, x.element, bo, y.element);
        } else if constexpr (std::is_same_v<T, TupleType>) {
          if (x.elements.size() != y.elements.size()) return false;
          for (size_t i = 0; i < x.elements.size(); ++i)
            if (!same_type(ao, x.elements[i], bo, y.elements[i])) return false;
          return true;
        } else if constexpr (std::is_same_v<T, FlagsType> || std::is_same_v<T, EnumType>) {
          return x.names == y.names;
        } else if constexpr (std::is_same_v<T, OptionType>) {
          return same_type(ao, x.element, bo, y.element);
        } else if constexpr (std::is_same_v<T, ResultType>) {
          return same_opt(ao, x.ok, bo, y.ok) && same_opt(ao, x.err, bo, y.err);
        } else if constexpr (std::is_same_v<T, OwnType> || std::is_same_v<T, BorrowType>) {
          return same_resource(ao, x.resource, bo, y.resource);
        } else if constexpr (std::is_same_v<T, StreamType> || std::is_same_v<T, FutureType>) {
          return same_opt(ao, x.element, bo, y.element);
        } else if constexpr (std::is_same_v<T, MapType>) {
          return same_type(ao, x.key, bo, y.key) && same_type(ao, x.value, bo, y.value);
        } else {
          return false;
        }
      },
      ka);
}

namespace {

// An import's path for messages: "iface", or "iface#member" for a member
// of an imported instance. Made only when there is an error to report.
struct ImportPath {
  const std::string& import;
  std::string_view member;
  std::string str() const { return member.empty() ? import : import + "#" + std::string(member); }
};

Result<void> check_func(const InstanceState& importer, const FuncType& expected, const RtFunc& actual,
                        const ImportPath& path) {
  const FuncType& got = *actual.type();
  // Host functions have no owner: their types name runtime resource types,
  // or the importer's own static ones (taken from its decoded imports);
  // resolving through the importer handles both.
  const InstanceState* owner = actual.owner() != nullptr ? actual.owner() : &importer;
  auto mismatch = [&](const std::string& what) {
    return make_error("import `" + path.str() + "`: function type mismatch: " + what);
  };
  if (expected.async != got.async) return mismatch("async differs");
  if (expected.params.size() != got.params.size())
    return mismatch("expected " + std::to_string(expected.params.size()) + " parameters, found " +
                    std::to_string(got.params.size()));
  for (size_t i = 0; i < expected.params.size(); ++i) {
    if (expected.params[i].name != got.params[i].name)
      return mismatch("parameter " + std::to_string(i) + " is named `" + got.params[i].name + "`, expected `" +
                      expected.params[i].name + "`");
    if (!same_type(&importer, expected.params[i].type, owner, got.params[i].type))
      return mismatch("parameter `" + expected.params[i].name + "` has a different type");
  }
  if (!same_opt(&importer, expected.result, owner, got.result)) return mismatch("result type differs");
  return {};
}

const char* item_kind(const RtItem& item) {
  switch (item.index()) {
    case 0: return "a function";
    case 1: return "an instance";
    case 2: return "a type";
    case 3: return "a component";
    case 4: return "a core module";
  }
  return "?";
}

}  // namespace

namespace {

Result<void> bind_item(InstanceState& importer, const ExternType& expected, const RtItem& actual,
                       const ImportPath& path) {
  auto wrong = [&](const char* want) {
    return make_error("import `" + path.str() + "`: expected " + std::string(want) + ", found " + item_kind(actual));
  };
  if (const auto* ft = std::get_if<FuncTypePtr>(&expected)) {
    const auto* f = std::get_if<RtFuncPtr>(&actual);
    if (f == nullptr) return wrong("a function");
    return check_func(importer, **ft, **f, path);
  }
  if (const auto* it = std::get_if<InstanceTypePtr>(&expected)) {
    const auto* inst = std::get_if<RtInstancePtr>(&actual);
    if (inst == nullptr) return wrong("an instance");
    for (const auto& exp : (*it)->exports) {
      auto found = (*inst)->exports.find(exp.name);
      if (found == (*inst)->exports.end())
        return make_error("import `" + path.str() + "`: instance has no export named `" + exp.name + "`");
      if (path.member.empty()) {
        STRATUS_TRY(bind_item(importer, exp.type, found->second, ImportPath{path.import, exp.name}));
      } else {  // an instance inside an imported instance
        std::string outer = path.str();
        STRATUS_TRY(bind_item(importer, exp.type, found->second, ImportPath{outer, exp.name}));
      }
    }
    return {};
  }
  if (const auto* tb = std::get_if<TypeBound>(&expected)) {
    const auto* t = std::get_if<RtType>(&actual);
    if (t == nullptr) return wrong("a type");
    if (const auto* r = std::get_if<ResourceTypePtr>(&tb->type)) {
      if (!t->runtime_resource)
        return make_error("import `" + path.str() + "`: expected a resource type, found a value type");
      auto known = importer.resolve(*r);
      if (tb->sub_resource || known == *r) {
        // Unbound (`known` is the static type itself): a resource a nested
        // component defined and exported inside an instance, which the
        // decoder leaves as that component's static type in the aliased
        // item's type; the validator proved the two the same, and this is
        // where this component first meets it at run time.
        importer.bind_resource(*r, t->runtime_resource);
      } else if (known != settled(t->runtime_resource)) {
        return make_error("import `" + path.str() + "`: resource type mismatch");
      }
    } else if (t->runtime_resource) {
      return make_error("import `" + path.str() + "`: expected a value type, found a resource type");
    }
    return {};
  }
  if (std::holds_alternative<ComponentTypePtr>(expected)) {
    if (!std::holds_alternative<ComponentPtr>(actual)) return wrong("a component");
    return {};
  }
  if (std::holds_alternative<CoreModuleTypePtr>(expected)) {
    if (!std::holds_alternative<CoreModulePtr>(actual)) return wrong("a core module");
    return {};
  }
  return make_error("import `" + path.str() + "`: value imports are not supported");
}

}  // namespace

Result<void> bind_import(InstanceState& importer, const ExternType& expected, const RtItem& actual,
                         const std::string& path) {
  return bind_item(importer, expected, actual, ImportPath{path, {}});
}

}  // namespace stratus::component

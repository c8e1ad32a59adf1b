#include "component/runtime/lazy_export.h"

#include <set>

#include "component/binary/subtype.h"
#include "component/runtime/observed_func.h"
#include "support/trace_slot.h"

namespace stratus::component {
namespace {

// Resource types an export may mention in its functions: the placeholders
// lazy_of made for those it exports itself.
using Allowed = binary::ResourceMap;

bool is_allowed(const ResourceTypePtr& r, const Allowed& allowed) {
  for (const auto& [unused, p] : allowed)
    if (p == r) return true;
  return false;
}

bool mentions_other_resource(const ValType& t, const Allowed& allowed);
bool mentions_other_resource(const std::optional<ValType>& t, const Allowed& allowed) {
  return t && mentions_other_resource(*t, allowed);
}

bool mentions_other_resource(const ValType& t, const Allowed& allowed) {
  if (t.is_primitive()) return false;
  return std::visit(
      [&allowed](const auto& k) -> bool {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
          return !is_allowed(k.resource, allowed);
        } else if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& f : k.fields)
            if (mentions_other_resource(f.type, allowed)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, VariantType>) {
          for (const auto& c : k.cases)
            if (mentions_other_resource(c.type, allowed)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements)
            if (mentions_other_resource(e, allowed)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType> ||
                             std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
          return mentions_other_resource(k.element, allowed);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          return mentions_other_resource(k.ok, allowed) || mentions_other_resource(k.err, allowed);
        } else if constexpr (std::is_same_v<K, MapType>) {
          return mentions_other_resource(k.key, allowed) || mentions_other_resource(k.value, allowed);
        } else {
          return false;  // flags, enum
        }
      },
      t.defined().kind);
}

bool mentions_other_resource(const FuncType& f, const Allowed& allowed) {
  for (const auto& p : f.params)
    if (mentions_other_resource(p.type, allowed)) return true;
  return mentions_other_resource(f.result, allowed);
}

// A function of the lazy export: its first call makes the instance, and
// every call goes to the instance's own function. Its type is the
// exporter's with the placeholders in place of the resource types the
// export gives: runtime types, so it needs no owner.
class LazyFunc final : public RtFunc {
 public:
  LazyFunc(FuncTypePtr type, LazyExportState& state, std::string path)
      : RtFunc(std::move(type), nullptr), state_(state), path_(std::move(path)) {}

  CallOutcome call(InstanceState* caller, std::span<const Val> args) override {
    if (t_trace_slot != nullptr && state_.lazy.observer) [[unlikely]]
      return observed_call(caller, args);
    auto f = target();
    if (!f) return engine::Trap{engine::TrapKind::Other, f.error().message};
    return (*f)->call(caller, args);
  }

  std::pair<MaybeTrap, OnCancel> invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) override {
    if (t_trace_slot != nullptr && state_.lazy.observer) [[unlikely]]
      return observed_invoke(caller, std::move(on_start), std::move(on_resolve));
    auto f = target();
    if (!f) return {engine::Trap{engine::TrapKind::Other, f.error().message}, OnCancel{}};
    return (*f)->invoke(caller, std::move(on_start), std::move(on_resolve));
  }

 private:
  CallOutcome observed_call(InstanceState* caller, std::span<const Val> args) {
    return call_observed(
        *state_.lazy.observer, path_, [this] { return target(); }, caller, args);
  }

  std::pair<MaybeTrap, OnCancel> observed_invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) {
    return invoke_observed(
        *state_.lazy.observer, path_, [this] { return target(); }, caller, std::move(on_start), std::move(on_resolve));
  }

  Result<RtFuncPtr> target() {
    if (target_) return target_;
    auto instance = state_.get();
    if (!instance) return std::move(instance).error();
    const auto& exports = std::static_pointer_cast<InstanceState>(*instance)->exports();
    const RtItem* item = find_export(*exports, path_);
    const auto* f = item != nullptr ? std::get_if<RtFuncPtr>(item) : nullptr;
    if (f == nullptr)
      return make_error("the instance made for `" + state_.lazy.name + "` has no function `" + path_ + "`");
    target_ = *f;
    return target_;
  }

  LazyExportState& state_;  // kept alive by the importer
  std::string path_;
  RtFuncPtr target_;
};

void add_resources(const ExternType& type, std::set<const ResourceType*>& out) {
  if (const auto* t = std::get_if<TypeBound>(&type)) {
    if (const auto* r = std::get_if<ResourceTypePtr>(&t->type)) out.insert(r->get());
  } else if (const auto* it = std::get_if<InstanceTypePtr>(&type)) {
    for (const auto& e : (*it)->exports) add_resources(e.type, out);
  }
}

// The resource types a component imports (in its imports' type bounds).
std::set<const ResourceType*> imported_resources(const ComponentType& component) {
  std::set<const ResourceType*> out;
  for (const auto& i : component.imports) add_resources(i.type, out);
  return out;
}

// The lazy item for an export of type `type` at `path`; nullopt when it
// cannot be lazy (then the instance is made now). `placeholders` maps the
// exporter's static resource types met so far to their placeholders; an
// instance's type exports come before the functions that use them.
// `imported`: the exporter's imported resource types (imported_resources).
std::optional<RtItem> lazy_of(LazyExportState& state, const ExternType& type, const std::string& path,
                              Allowed& placeholders, const std::set<const ResourceType*>& imported) {
  if (std::holds_alternative<FuncTypePtr>(type)) {
    auto substituted = binary::substitute(type, placeholders);
    const auto& ft = std::get<FuncTypePtr>(substituted);
    if (mentions_other_resource(*ft, placeholders)) return std::nullopt;
    return RtItem(RtFuncPtr(std::make_shared<LazyFunc>(ft, state, path)));
  }
  if (const auto* t = std::get_if<TypeBound>(&type)) {
    if (const auto* r = std::get_if<ResourceTypePtr>(&t->type)) {
      // Only a resource the exporter defines can wait for it; one it
      // imports is another's, which the importer must get itself (the
      // instance is made now).
      if (!(*r)->defined || imported.count(r->get()) != 0) return std::nullopt;
      auto known = placeholders.find(r->get());
      if (known != placeholders.end()) return RtItem(RtType{*r, known->second});
      std::shared_ptr<ResourceType> placeholder;
      if (state.lazy.resource_types) placeholder = (*state.lazy.resource_types)[path];
      if (!placeholder) {
        placeholder = std::make_shared<ResourceType>();
        placeholder->name = path.substr(path.rfind('#') + 1);  // the export's name, as the provider's type takes
        if (state.lazy.resource_types) (*state.lazy.resource_types)[path] = placeholder;
      }
      placeholders.emplace(r->get(), placeholder);
      state.placeholders.emplace_back(path, placeholder);
      return RtItem(RtType{*r, placeholder});
    }
    auto v = binary::substitute(std::get<ValType>(t->type), placeholders);
    if (mentions_other_resource(v, placeholders)) return std::nullopt;
    return RtItem(RtType{v, nullptr});
  }
  if (const auto* it = std::get_if<InstanceTypePtr>(&type); it != nullptr && path.find('#') == std::string::npos) {
    auto inst = std::make_shared<RtInstance>();
    for (const auto& e : (*it)->exports) {
      auto item = lazy_of(state, e.type, path + "#" + e.name, placeholders, imported);
      if (!item) return std::nullopt;
      inst->exports.emplace(e.name, std::move(*item));
    }
    return RtItem(RtInstancePtr(inst));
  }
  return std::nullopt;
}

}  // namespace

Result<std::shared_ptr<ComponentInstance>> LazyExportState::get() {
  if (instance) return instance;
  auto made = lazy.instantiate ? lazy.instantiate() : make_error("no way to make it");
  if (!made) return std::move(made).error().context("instantiating the provider of `" + lazy.name + "`");
  if (!std::dynamic_pointer_cast<InstanceState>(*made))
    return make_error("the provider of `" + lazy.name + "` is not an instance made by a Linker");
  // Settle the placeholders: the importers' handles of them are of these
  // types from now on.
  const auto& exports = std::static_pointer_cast<InstanceState>(*made)->exports();
  for (const auto& [path, placeholder] : placeholders) {
    const RtItem* item = find_export(*exports, path);
    const auto* t = item != nullptr ? std::get_if<RtType>(item) : nullptr;
    if (t == nullptr || !t->runtime_resource)
      return make_error("the instance made for `" + lazy.name + "` has no resource type `" + path + "`");
    placeholder->stands_for = settled(t->runtime_resource);
  }
  instance = std::move(*made);
  return instance;
}

std::optional<ExternType> lazy_export_type(const LazyExport& lazy) {
  if (!lazy.component || !lazy.component->type) return std::nullopt;
  for (const auto& e : lazy.component->type->exports)
    if (e.name == lazy.name) return e.type;
  return std::nullopt;
}

Result<RtItem> lazy_item(LazyExportState& state) {
  if (state.item) return *state.item;
  auto type = lazy_export_type(state.lazy);
  if (!type) return make_error("the component has no export `" + state.lazy.name + "`");
  if (!state.instance) {
    Allowed placeholders;
    state.item = lazy_of(state, *type, state.lazy.name, placeholders, imported_resources(*state.lazy.component->type));
    if (!state.item) state.placeholders.clear();
  }
  if (state.item) return *state.item;
  auto instance = state.get();
  if (!instance) return std::move(instance).error();
  const auto& exports = std::static_pointer_cast<InstanceState>(*instance)->exports();
  const RtItem* item = find_export(*exports, state.lazy.name);
  if (item == nullptr) return make_error("the instance has no export `" + state.lazy.name + "`");
  state.item = *item;
  return *state.item;
}

}  // namespace stratus::component

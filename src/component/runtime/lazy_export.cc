#include "component/runtime/lazy_export.h"

namespace stratus::component {
namespace {

bool mentions_resource(const ValType& t);
bool mentions_resource(const std::optional<ValType>& t) { return t && mentions_resource(*t); }

bool mentions_resource(const ValType& t) {
  if (t.is_primitive()) return false;
  return std::visit(
      [](const auto& k) -> bool {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
          return true;
        } else if constexpr (std::is_same_v<K, RecordType>) {
          for (const auto& f : k.fields)
            if (mentions_resource(f.type)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, VariantType>) {
          for (const auto& c : k.cases)
            if (mentions_resource(c.type)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, TupleType>) {
          for (const auto& e : k.elements)
            if (mentions_resource(e)) return true;
          return false;
        } else if constexpr (std::is_same_v<K, ListType> || std::is_same_v<K, OptionType> ||
                             std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
          return mentions_resource(k.element);
        } else if constexpr (std::is_same_v<K, ResultType>) {
          return mentions_resource(k.ok) || mentions_resource(k.err);
        } else if constexpr (std::is_same_v<K, MapType>) {
          return mentions_resource(k.key) || mentions_resource(k.value);
        } else {
          return false;  // flags, enum
        }
      },
      t.defined().kind);
}

bool mentions_resource(const FuncType& f) {
  for (const auto& p : f.params)
    if (mentions_resource(p.type)) return true;
  return mentions_resource(f.result);
}

// A function of the lazy export: its first call makes the instance, and
// every call goes to the instance's own function. Its type is the
// exporter's, which involves no resource type, so it needs no owner.
class LazyFunc final : public RtFunc {
 public:
  LazyFunc(FuncTypePtr type, LazyExportState& state, std::string path)
      : RtFunc(std::move(type), nullptr), state_(state), path_(std::move(path)) {}

  CallOutcome call(InstanceState* caller, std::span<const Val> args) override {
    auto f = target();
    if (!f) return engine::Trap{engine::TrapKind::Other, f.error().message};
    return (*f)->call(caller, args);
  }

  std::pair<MaybeTrap, OnCancel> invoke(InstanceState* caller, OnStart on_start, OnResolve on_resolve) override {
    auto f = target();
    if (!f) return {engine::Trap{engine::TrapKind::Other, f.error().message}, OnCancel{}};
    return (*f)->invoke(caller, std::move(on_start), std::move(on_resolve));
  }

 private:
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

// The lazy item for an export of type `type`; nullopt when the type
// involves resources (or nested instances): then the instance is made now.
std::optional<RtItem> lazy_of(LazyExportState& state, const ExternType& type, const std::string& path) {
  if (const auto* f = std::get_if<FuncTypePtr>(&type)) {
    if (mentions_resource(**f)) return std::nullopt;
    return RtItem(RtFuncPtr(std::make_shared<LazyFunc>(*f, state, path)));
  }
  if (const auto* t = std::get_if<TypeBound>(&type)) {
    const auto* v = std::get_if<ValType>(&t->type);
    if (v == nullptr || t->sub_resource || mentions_resource(*v)) return std::nullopt;
    return RtItem(RtType{*v, nullptr});
  }
  if (const auto* it = std::get_if<InstanceTypePtr>(&type); it != nullptr && path.find('#') == std::string::npos) {
    auto inst = std::make_shared<RtInstance>();
    for (const auto& e : (*it)->exports) {
      auto item = lazy_of(state, e.type, path + "#" + e.name);
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
  if (!state.instance) state.item = lazy_of(state, *type, state.lazy.name);
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

#include <charconv>
#include <tuple>

#include "component/runtime/funcs.h"
#include "component/runtime/instance_state.h"
#include "component/runtime/lazy_export.h"
#include "component/runtime/observed_func.h"

namespace stratus::component {
namespace {

struct Version {
  uint64_t major = 0, minor = 0, patch = 0;
  auto key() const { return std::tie(major, minor, patch); }
};

// "pkg/iface@1.2.3" -> ("pkg/iface", 1.2.3); nullopt without a plain
// numeric version (pre-release and build suffixes match exactly only).
std::optional<std::pair<std::string, Version>> split_version(const std::string& name) {
  auto at = name.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  Version v;
  const char* p = name.data() + at + 1;
  const char* end = name.data() + name.size();
  uint64_t* parts[] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc()) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return std::make_pair(name.substr(0, at), v);
}

// Semver compatibility as Wasmtime applies it to interface names: same
// major (and, for 0.x, same minor).
bool compatible(const Version& a, const Version& b) {
  if (a.major != b.major) return false;
  if (a.major == 0) return a.minor == b.minor;
  return true;
}

RtItem to_item(const LinkItem& item, std::vector<std::shared_ptr<void>>& keep_alive) {
  if (const auto* f = std::get_if<HostFunc>(&item)) return make_host_func(*f);
  if (const auto* hi = std::get_if<HostInstance>(&item)) {
    auto inst = std::make_shared<RtInstance>();
    for (const auto& [name, r] : hi->resources) inst->exports[name] = RtType{r, r};
    for (const auto& [name, t] : hi->types) inst->exports[name] = RtType{t, nullptr};
    for (const auto& [name, f] : hi->funcs) inst->exports[name] = make_host_func(f);
    return inst;
  }
  if (const auto* r = std::get_if<ResourceTypePtr>(&item)) return RtType{*r, *r};
  if (const auto* ce = std::get_if<ComponentExport>(&item)) {
    keep_alive.push_back(ce->instance);
    const auto& exports = std::static_pointer_cast<InstanceState>(ce->instance)->exports();
    const RtItem& found = *find_export(*exports, ce->name);
    return ce->observer ? observed_item(found, ce->observer, ce->name) : found;
  }
  const auto& ci = std::get<std::shared_ptr<ComponentInstance>>(item);
  keep_alive.push_back(ci);
  return std::static_pointer_cast<InstanceState>(ci)->exports();
}

void collect_modules(const Component& c, std::vector<CoreModulePtr>& out) {
  for (const auto& def : c.definitions) {
    if (const auto* m = std::get_if<CoreModuleDef>(&def)) out.push_back(m->module);
    if (const auto* n = std::get_if<ComponentDef>(&def)) collect_modules(*n->component, out);
  }
}

// A component's core modules may use several memories and exceptions.
engine::CompileOptions core_module_options() {
  return {.name = "component core module", .multi_memory = true, .exceptions = true};
}

// Host items (functions, instances, resource types) do not depend on the
// instance that imports them: each import name is resolved and made into a
// runtime item once (semver lookup, a HostFuncAdapter per function), not per
// instantiation.
bool is_host_item(const LinkItem& item) {
  return std::holds_alternative<HostFunc>(item) || std::holds_alternative<HostInstance>(item) ||
         std::holds_alternative<ResourceTypePtr>(item);
}

}  // namespace

struct Linker::HostItems {
  std::map<std::string, RtItem, std::less<>> by_import;
};

Linker::Linker(engine::Engine& engine) : Linker(engine, std::make_shared<Store>()) {}
Linker::Linker(engine::Engine& engine, std::shared_ptr<Store> store)
    : engine_(engine),
      store_(std::move(store)),
      host_items_(std::make_unique<HostItems>()),
      bind_cache_(std::make_unique<BindCache>()) {}
Linker::~Linker() = default;

Reactor& Linker::reactor() const { return store_->reactor; }

std::optional<engine::Trap> Linker::run_until(const std::function<bool()>& done,
                                              std::optional<std::chrono::nanoseconds> timeout) {
  if (Thread::current() != nullptr) return async_trap("run_until called from inside a guest");
  return run_event_loop(*store_, done, timeout);
}

std::optional<engine::Trap> Linker::run_until_idle(std::optional<std::chrono::nanoseconds> timeout) {
  if (Thread::current() != nullptr) return async_trap("run_until_idle called from inside a guest");
  return component::run_until_idle(*store_, timeout);
}

Result<void> Linker::define_func(const std::string& name, HostFunc func) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  if (!func.type) return make_error("define `" + name + "`: function has no type");
  if (!func.callback && !func.async_callback) return make_error("define `" + name + "`: function has no callback");
  if (func.name.empty()) func.name = name;
  if (!items_.emplace(name, std::move(func)).second) return make_error("`" + name + "` is already defined");
  return {};
}

Result<void> Linker::define_instance(const std::string& name, HostInstance instance) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  for (auto& [fname, f] : instance.funcs) {
    if (!f.callback && !f.async_callback)
      return make_error("define `" + name + "`: function `" + fname + "` has no callback");
    if (f.name.empty()) f.name = name + "#" + fname;
  }
  if (!items_.emplace(name, std::move(instance)).second) return make_error("`" + name + "` is already defined");
  return {};
}

Result<void> Linker::define_resource(const std::string& name, ResourceTypePtr resource) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  if (!items_.emplace(name, std::move(resource)).second) return make_error("`" + name + "` is already defined");
  return {};
}

Result<void> Linker::define_component_instance(const std::string& name, std::shared_ptr<ComponentInstance> instance) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  if (!std::dynamic_pointer_cast<InstanceState>(instance))
    return make_error("define `" + name + "`: not an instance made by a Linker");
  if (!items_.emplace(name, std::move(instance)).second) return make_error("`" + name + "` is already defined");
  return {};
}

Result<void> Linker::define_exports(const std::shared_ptr<ComponentInstance>& instance) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  auto state = std::dynamic_pointer_cast<InstanceState>(instance);
  if (!state) return make_error("define_exports: not an instance made by a Linker");
  for (const auto& [name, item] : state->exports()->exports) {
    (void)item;
    if (!items_.emplace(name, ComponentExport{instance, name, nullptr}).second)
      return make_error("`" + name + "` is already defined");
  }
  return {};
}

Result<void> Linker::define_export(const std::string& name, const std::shared_ptr<ComponentInstance>& instance,
                                   const std::string& export_name, std::shared_ptr<LinkObserver> observer) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  auto state = std::dynamic_pointer_cast<InstanceState>(instance);
  if (!state) return make_error("define `" + name + "`: not an instance made by a Linker");
  if (state->exports()->exports.count(export_name) == 0)
    return make_error("define `" + name + "`: the instance has no export `" + export_name + "`");
  if (!items_.emplace(name, ComponentExport{instance, export_name, std::move(observer)}).second)
    return make_error("`" + name + "` is already defined");
  return {};
}

Result<void> Linker::define_lazy_export(const std::string& name, LazyExport lazy) {
  host_items_->by_import.clear();
  bind_cache_->entries.clear();
  if (!lazy.instantiate) return make_error("define `" + name + "`: no way to make the instance");
  if (!lazy_export_type(lazy))
    return make_error("define `" + name + "`: the component has no export `" + lazy.name + "`");
  if (!items_.emplace(name, std::make_shared<LazyExportState>(std::move(lazy))).second)
    return make_error("`" + name + "` is already defined");
  return {};
}

Result<void> Linker::redefine_export(const std::string& name, const std::shared_ptr<ComponentInstance>& instance,
                                     const std::string& export_name, std::shared_ptr<LinkObserver> observer) {
  auto it = items_.find(name);
  if (it == items_.end() || !std::holds_alternative<ComponentExport>(it->second))
    return make_error("redefine `" + name + "`: not defined as another component's export");
  auto old = std::move(it->second);
  items_.erase(it);
  auto defined = define_export(name, instance, export_name, std::move(observer));
  if (!defined) items_.emplace(name, std::move(old));
  return defined;
}

const LinkItem* Linker::find(const std::string& name) const {
  auto exact = items_.find(name);
  if (exact != items_.end()) return &exact->second;
  auto wanted = split_version(name);
  if (!wanted) return nullptr;
  const LinkItem* best = nullptr;
  Version best_version;
  for (const auto& [defined, item] : items_) {
    auto have = split_version(defined);
    if (!have || have->first != wanted->first || !compatible(have->second, wanted->second)) continue;
    if (best == nullptr || best_version.key() < have->second.key()) {
      best = &item;
      best_version = have->second;
    }
  }
  return best;
}

Result<std::vector<std::shared_ptr<engine::Module>>> compile_modules(engine::Engine& engine,
                                                                     const Component& component) {
  std::vector<CoreModulePtr> modules;
  collect_modules(component, modules);
  std::vector<std::span<const uint8_t>> bytes;
  for (const auto& m : modules) bytes.emplace_back(m->bytes);
  std::vector<std::shared_ptr<engine::Module>> out;
  auto results = engine.compile_many(bytes, core_module_options());
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) return std::move(results[i]).error().context("core module " + std::to_string(i));
    out.push_back(*results[i]);
  }
  return out;
}

Result<void> Linker::precompile(const ComponentPtr& component, const std::string& name) {
  return compile_all(*component, name);
}

Result<void> Linker::compile_all(const Component& component, const std::string& name) {
  std::vector<CoreModulePtr> modules;
  collect_modules(component, modules);
  std::vector<CoreModulePtr> todo;
  std::vector<std::span<const uint8_t>> bytes;
  for (const auto& m : modules) {
    if (compiled_.count(m.get()) != 0) continue;
    bool dup = false;
    for (const auto& t : todo) dup = dup || t == m;
    if (dup) continue;
    todo.push_back(m);
    bytes.push_back(m->bytes);
  }
  if (todo.empty()) return {};
  auto options = core_module_options();
  if (!name.empty()) options.name = name;
  auto results = engine_.compile_many(bytes, options);
  for (size_t i = 0; i < todo.size(); ++i) {
    if (!results[i].ok()) return std::move(results[i]).error().context("core module " + std::to_string(i));
    compiled_[todo[i].get()] = {todo[i], *results[i]};
  }
  return {};
}

Result<std::shared_ptr<engine::Module>> Linker::compiled(const CoreModulePtr& module) {
  auto it = compiled_.find(module.get());
  if (it != compiled_.end()) return it->second.second;
  auto m = engine_.compile(module->bytes, core_module_options());
  if (!m.ok()) return std::move(m).error();
  compiled_[module.get()] = {module, *m};
  return *m;
}

Result<std::shared_ptr<ComponentInstance>> Linker::instantiate(const ComponentPtr& component,
                                                               const InstantiateOptions& options) {
  STRATUS_TRY(compile_all(*component));
  auto state = std::make_shared<InstanceState>(*this, nullptr, options);
  // One tier for all its core instances: the one the engine offers now for
  // its modules (they were compiled together).
  std::vector<CoreModulePtr> modules;
  collect_modules(*component, modules);
  if (!modules.empty()) {
    auto it = compiled_.find(modules.front().get());
    if (it != compiled_.end()) state->set_tier(engine_.tier_for(*it->second.second), it->second.second);
  }
  RtItemMap args;
  std::vector<std::shared_ptr<void>> keep_alive;
  for (const auto& def : component->definitions) {
    const auto* import = std::get_if<ImportDef>(&def);
    if (import == nullptr) continue;
    auto cached = host_items_->by_import.find(import->name);
    if (cached != host_items_->by_import.end()) {
      args.emplace(import->name, cached->second);
      continue;
    }
    const LinkItem* item = find(import->name);
    if (item == nullptr) return make_error("import `" + import->name + "` is not defined by the host");
    if (const auto* lazy = std::get_if<std::shared_ptr<LazyExportState>>(item)) {
      auto made = lazy_item(**lazy);
      if (!made) return std::move(made).error().context("import `" + import->name + "`");
      keep_alive.push_back(*lazy);  // its functions refer to it
      args.emplace(import->name, std::move(*made));
      continue;
    }
    auto made = to_item(*item, keep_alive);
    if (is_host_item(*item)) host_items_->by_import.emplace(import->name, made);
    args.emplace(import->name, std::move(made));
  }
  state->keep(std::move(keep_alive));
  auto done = state->instantiate(component, args);
  if (!done.ok()) return std::move(done).error();
  return std::shared_ptr<ComponentInstance>(state);
}

}  // namespace stratus::component

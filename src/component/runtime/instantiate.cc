// Instantiation: walks a component's definitions in order, building the
// index spaces of Binary.md with runtime objects.
#include <string>

#include "component/runtime/funcs.h"
#include "component/runtime/instance_state.h"

namespace stratus::component {

class Instantiator {
 public:
  Instantiator(InstanceState& s, const RtItemMap& args) : s_(s), args_(args) {}

  Result<void> operator()(const CoreModuleDef& d) {
    s_.core_modules_.push_back(d.module);
    return {};
  }

  Result<void> operator()(const CoreInstanceDef& d) {
    auto rt = std::make_shared<RtCoreInstance>();
    if (const auto* inst = std::get_if<CoreInstantiate>(&d.expr)) {
      if (inst->module >= s_.core_modules_.size()) return bad_index("core module", inst->module);
      auto compiled = s_.linker_.compiled(s_.core_modules_[inst->module]);
      if (!compiled.ok()) return std::move(compiled).error();
      std::vector<engine::ImportValue> imports;
      for (const auto& import : (*compiled)->imports()) {
        const CoreInstantiate::Arg* arg = nullptr;
        for (const auto& a : inst->args)
          if (a.name == import.module) arg = &a;
        if (arg == nullptr)
          return make_error("core instantiation: no argument named `" + import.module + "` for import `" +
                            import.module + "." + import.name + "`");
        if (arg->instance >= s_.core_instances_.size()) return bad_index("core instance", arg->instance);
        auto ext = s_.core_instances_[arg->instance]->get(import.name);
        if (!ext)
          return make_error("core instantiation: argument `" + import.module + "` has no export `" + import.name + "`");
        imports.push_back({import.module, import.name, *ext});
      }
      auto on_tier = s_.linker_.engine().on_tier(*compiled, s_.engine());
      if (!on_tier.ok()) return std::move(on_tier).error().context("core instantiation");
      auto made = s_.engine().instantiate(*on_tier, imports, s_.options_.limits);
      if (auto* t = std::get_if<engine::Trap>(&made)) return make_error("core instance start trapped: " + t->message);
      if (auto* e = std::get_if<Error>(&made)) return std::move(*e).context("core instantiation");
      rt->instance = std::get<std::shared_ptr<engine::Instance>>(made);
      s_.root().core_order_.push_back(rt->instance);
    } else {
      for (const auto& e : std::get<std::vector<CoreInlineExport>>(d.expr)) {
        auto ext = core_item(e.target);
        if (!ext.ok()) return std::move(ext).error();
        rt->exports[e.name] = *ext;
      }
    }
    s_.core_instances_.push_back(std::move(rt));
    return {};
  }

  Result<void> operator()(const CoreTypeDef&) {
    s_.core_types_ += 1;
    return {};
  }

  Result<void> operator()(const ComponentDef& d) {
    if (!d.component->captures) {
      s_.components_.push_back(d.component);
      return {};
    }
    auto closed = close(d.component, 0);
    if (!closed.ok()) return std::move(closed).error();
    s_.components_.push_back(std::move(*closed));
    return {};
  }

  Result<void> operator()(const OuterAliasDef& d) {
    // Aliases reaching out of this component were substituted when the
    // enclosing instance defined it (close).
    if (d.count != 0) return make_error("outer alias left unresolved by the enclosing instance");
    auto item = item_at(SortIndex{d.sort, d.index});
    if (!item.ok()) return std::move(item).error();
    return push(d.sort, *item, std::nullopt);
  }

  Result<void> operator()(const InstanceDef& d) {
    if (const auto* inst = std::get_if<Instantiate>(&d.expr)) {
      if (inst->component >= s_.components_.size()) return bad_index("component", inst->component);
      RtItemMap args;
      for (const auto& a : inst->args) {
        auto item = item_at(a.value);
        if (!item.ok()) return std::move(item).error();
        args.emplace(a.name, std::move(*item));
      }
      auto child = std::make_shared<InstanceState>(s_.linker_, &s_, s_.options_);
      auto done = child->instantiate(s_.components_[inst->component], args);
      if (!done.ok()) return std::move(done).error().context("instance " + std::to_string(s_.instances_.size()));
      s_.instances_.push_back(child->exports());
      s_.children_.push_back(std::move(child));
      return {};
    }
    auto rt = std::make_shared<RtInstance>();
    rt->owner = &s_;
    for (const auto& e : std::get<std::vector<InlineExport>>(d.expr)) {
      auto item = item_at(e.target);
      if (!item.ok()) return std::move(item).error();
      rt->exports[e.name] = std::move(*item);
    }
    s_.instances_.push_back(std::move(rt));
    return {};
  }

  Result<void> operator()(const AliasDef& d) {
    const auto& a = d.alias;
    switch (a.sort) {
      case Sort::CoreFunc:
      case Sort::CoreTable:
      case Sort::CoreMemory:
      case Sort::CoreGlobal:
      case Sort::CoreTag: {
        if (a.instance >= s_.core_instances_.size()) return bad_index("core instance", a.instance);
        auto ext = s_.core_instances_[a.instance]->get(a.name);
        if (!ext) return make_error("alias: core instance has no export `" + a.name + "`");
        return push_core(a.sort, *ext);
      }
      case Sort::CoreType:
      case Sort::CoreInstance: return make_error(std::string("alias of a ") + sort_name(a.sort) + " is not supported");
      default: break;
    }
    if (a.instance >= s_.instances_.size()) return bad_index("instance", a.instance);
    const RtItem* item = find_export(*s_.instances_[a.instance], a.name);
    if (item == nullptr) return make_error("alias: instance has no export `" + a.name + "`");
    // Map the resource types this component's view of the item names to
    // the runtime types the instance exports.
    if (d.type) STRATUS_TRY(bind_import(s_, *d.type, *item, a.name));
    return push(a.sort, *item, d.type);
  }

  Result<void> operator()(const TypeDef& d) {
    RtType t{d.type, nullptr};
    if (const auto* r = std::get_if<ResourceTypePtr>(&d.type)) {
      if ((*r)->defined) {
        auto rt = std::make_shared<ResourceType>();
        rt->name = (*r)->name;
        rt->defined = true;
        rt->implementer = &s_;
        if ((*r)->dtor_core_func) {
          uint32_t idx = *(*r)->dtor_core_func;
          if (idx >= s_.core_funcs_.size()) return bad_index("core func", idx);
          auto dtor = std::get<std::shared_ptr<engine::Func>>(s_.core_funcs_[idx]);
          rt->destructor = [dtor](uint32_t rep) -> Result<void> {
            engine::Value arg = engine::Value::i32(rep);
            auto r = dtor->call(std::span<const engine::Value>(&arg, 1));
            if (r.trapped()) return make_error(r.trap().message);
            if (!r.ok()) return make_error(r.error().message);
            return {};
          };
        }
        s_.bind_resource(*r, rt);
        t.runtime_resource = rt;
        unnamed_[rt.get()] = rt;
      } else {
        t.runtime_resource = s_.resolve(*r);
      }
    }
    s_.types_.push_back(std::move(t));
    return {};
  }

  Result<void> operator()(const CanonDef& d) {
    if (const auto* lift = std::get_if<CanonLift>(&d.canon)) {
      auto core = core_func(lift->core_func);
      if (!core.ok()) return std::move(core).error();
      auto options = canon_options(lift->options);
      if (!options.ok()) return std::move(options).error();
      s_.funcs_.push_back({make_lifted_func(s_, lift->type, *core, std::move(*options)), lift->type});
      return {};
    }
    if (const auto* lower = std::get_if<CanonLower>(&d.canon)) {
      if (lower->func >= s_.funcs_.size()) return bad_index("func", lower->func);
      auto options = canon_options(lower->options);
      if (!options.ok()) return std::move(options).error();
      const auto& entry = s_.funcs_[lower->func];
      auto kept = std::make_shared<RtCanonOptions>(std::move(*options));
      s_.keep({kept});
      s_.core_funcs_.push_back(make_lowered_func(s_, entry.func.get(), entry.type, kept.get()));
      return {};
    }
    if (const auto* n = std::get_if<CanonResourceNew>(&d.canon)) {
      s_.core_funcs_.push_back(make_resource_new(s_, s_.resolve(n->resource)));
      return {};
    }
    if (const auto* dr = std::get_if<CanonResourceDrop>(&d.canon)) {
      s_.core_funcs_.push_back(make_resource_drop(s_, s_.resolve(dr->resource)));
      return {};
    }
    if (const auto* rep = std::get_if<CanonResourceRep>(&d.canon)) {
      s_.core_funcs_.push_back(make_resource_rep(s_, s_.resolve(rep->resource)));
      return {};
    }
    const auto& b = std::get<CanonBuiltin>(d.canon);
    if (!b.core_type) return make_error("canon built-in `" + b.name + "` needs the async runtime, not supported yet");
    if (b.name == "task.return") {
      auto options = canon_options(b.options);
      if (!options.ok()) return std::move(options).error();
      auto kept = std::make_shared<RtCanonOptions>(std::move(*options));
      s_.keep({kept});
      s_.core_funcs_.push_back(make_task_return(s_, b.type, kept.get(), *b.core_type));
      return {};
    }
    if (b.name == "thread.new-indirect") {
      if (b.table >= s_.core_tables_.size()) return bad_index("core table", b.table);
      const auto* table = std::get_if<std::shared_ptr<engine::Table>>(&s_.core_tables_[b.table]);
      if (table == nullptr)
        return make_error("thread.new-indirect: core table " + std::to_string(b.table) + " is not a table");
      s_.core_funcs_.push_back(make_thread_new_indirect(s_, *table, *b.core_type));
      return {};
    }
    auto options = canon_options(b.options);
    if (!options.ok()) return std::move(options).error();
    auto kept = std::make_shared<RtCanonOptions>(std::move(*options));
    s_.keep({kept});
    if (auto f = make_async_builtin(s_, b, kept.get())) {
      s_.core_funcs_.push_back(f);
      return {};
    }
    // Built-ins this runtime lacks link, so that a component using them
    // only on some paths runs; calling one traps.
    s_.core_funcs_.push_back(make_unsupported_builtin(s_, b.name, *b.core_type));
    return {};
  }

  Result<void> operator()(const StartDef&) { return make_error("value start functions are not supported"); }

  Result<void> operator()(const ImportDef& d) {
    auto it = args_.find(d.name);
    if (it == args_.end()) return make_error("missing import `" + d.name + "`");
    const void* host_item = nullptr;
    if (const auto* f = std::get_if<RtFuncPtr>(&it->second); f != nullptr && (*f)->owner() == nullptr) {
      host_item = f->get();
    } else if (const auto* i = std::get_if<RtInstancePtr>(&it->second); i != nullptr && (*i)->owner == nullptr) {
      host_item = i->get();
    }
    if (s_.parent_ != nullptr || host_item == nullptr) {
      STRATUS_TRY(bind_import(s_, d.type, it->second, d.name));
      return push_extern(d.type, it->second);
    }
    auto& cache = s_.linker_.bind_cache_->entries;
    auto key = std::make_pair(static_cast<const void*>(&d), host_item);
    if (auto hit = cache.find(key); hit != cache.end()) {
      for (const auto& [static_type, runtime] : hit->second.bindings) s_.bind_resource(static_type, runtime);
    } else {
      InstanceState::Bindings made;
      s_.recording_ = &made;
      auto bound = bind_import(s_, d.type, it->second, d.name);
      s_.recording_ = nullptr;
      if (!bound.ok()) return bound;
      cache.emplace(key, Linker::BindCache::Entry{s_.component_, std::move(made)});
    }
    return push_extern(d.type, it->second);
  }

  Result<void> operator()(const ExportDef& d) {
    auto item = item_at(d.target);
    if (!item.ok()) return std::move(item).error();
    if (const auto* tb = std::get_if<TypeBound>(&d.type)) {
      if (const auto* r = std::get_if<ResourceTypePtr>(&tb->type)) {
        if (const auto* t = std::get_if<RtType>(&*item); t != nullptr && t->runtime_resource)
          s_.bind_resource(*r, t->runtime_resource);
      }
    }
    name_resources(*item, d.name);
    s_.exports_->exports[d.name] = *item;
    return push_extern(d.type, *item);
  }

 private:
  // A resource this instance defines takes the first name it is exported
  // under (directly, or inside an exported instance), for messages: the
  // decoder only knows a definition by its index.
  void name_resources(const RtItem& item, const std::string& name) {
    if (const auto* t = std::get_if<RtType>(&item); t != nullptr && t->runtime_resource) {
      auto it = unnamed_.find(t->runtime_resource.get());
      if (it == unnamed_.end()) return;
      it->second->name = name;
      unnamed_.erase(it);
    } else if (const auto* i = std::get_if<RtInstancePtr>(&item); i != nullptr && *i != nullptr) {
      for (const auto& [export_name, sub] : (*i)->exports) name_resources(sub, export_name);
    }
  }

  // Resources defined here and not exported yet (see name_resources).
  std::map<const ResourceType*, std::shared_ptr<ResourceType>> unnamed_;

  static Error bad_index(const char* space, uint32_t index) {
    return make_error(std::string(space) + " index " + std::to_string(index) + " out of range");
  }

  std::vector<engine::Extern>* core_space(Sort sort) {
    switch (sort) {
      case Sort::CoreFunc: return &s_.core_funcs_;
      case Sort::CoreTable: return &s_.core_tables_;
      case Sort::CoreMemory: return &s_.core_memories_;
      case Sort::CoreGlobal: return &s_.core_globals_;
      case Sort::CoreTag: return &s_.core_tags_;
      default: return nullptr;
    }
  }

  Result<engine::Extern> core_item(const SortIndex& si) {
    auto* space = core_space(si.sort);
    if (space == nullptr) return make_error(std::string("cannot export a ") + sort_name(si.sort) + " here");
    if (si.index >= space->size()) return bad_index(sort_name(si.sort), si.index);
    return (*space)[si.index];
  }

  Result<std::shared_ptr<engine::Func>> core_func(uint32_t index) {
    if (index >= s_.core_funcs_.size()) return bad_index("core func", index);
    auto* f = std::get_if<std::shared_ptr<engine::Func>>(&s_.core_funcs_[index]);
    if (f == nullptr) return make_error("core func index " + std::to_string(index) + " is not a function");
    return *f;
  }

  // A copy of `component`, nested `depth` components below this instance's,
  // with the outer aliases that reach this instance replaced by what its
  // index spaces hold now (a closure over this instance).
  Result<ComponentPtr> close(const ComponentPtr& component, uint32_t depth) {
    auto copy = std::make_shared<Component>(*component);
    for (auto& def : copy->definitions) {
      if (auto* a = std::get_if<OuterAliasDef>(&def); a != nullptr && a->count == depth + 1) {
        auto item = item_at(SortIndex{a->sort, a->index});
        if (!item.ok()) return std::move(item).error().context("outer alias");
        if (const auto* m = std::get_if<CoreModulePtr>(&*item)) {
          def = CoreModuleDef{*m};
        } else {
          def = ComponentDef{std::get<ComponentPtr>(*item)};
        }
      } else if (auto* c = std::get_if<ComponentDef>(&def); c != nullptr && c->component->captures) {
        auto inner = close(c->component, depth + 1);
        if (!inner.ok()) return std::move(inner).error();
        c->component = std::move(*inner);
      }
    }
    // Nothing in the outermost copy reaches past it any more: aliases beyond
    // this instance were substituted when this instance's own component was.
    if (depth == 0) copy->captures = false;
    return ComponentPtr(std::move(copy));
  }

  Result<void> push_core(Sort sort, const engine::Extern& ext) {
    auto* space = core_space(sort);
    engine::ExternKind want = sort == Sort::CoreFunc     ? engine::ExternKind::Func
                              : sort == Sort::CoreTable  ? engine::ExternKind::Table
                              : sort == Sort::CoreMemory ? engine::ExternKind::Memory
                              : sort == Sort::CoreGlobal ? engine::ExternKind::Global
                                                         : engine::ExternKind::Tag;
    if (engine::kind_of(ext) != want) return make_error(std::string("alias: export is not a ") + sort_name(sort));
    space->push_back(ext);
    return {};
  }

  Result<RtItem> item_at(const SortIndex& si) {
    switch (si.sort) {
      case Sort::Func:
        if (si.index >= s_.funcs_.size()) return bad_index("func", si.index);
        return RtItem(s_.funcs_[si.index].func);
      case Sort::Instance:
        if (si.index >= s_.instances_.size()) return bad_index("instance", si.index);
        return RtItem(s_.instances_[si.index]);
      case Sort::Type:
        if (si.index >= s_.types_.size()) return bad_index("type", si.index);
        return RtItem(s_.types_[si.index]);
      case Sort::Component:
        if (si.index >= s_.components_.size()) return bad_index("component", si.index);
        return RtItem(s_.components_[si.index]);
      case Sort::CoreModule:
        if (si.index >= s_.core_modules_.size()) return bad_index("core module", si.index);
        return RtItem(s_.core_modules_[si.index]);
      default: return make_error(std::string("a ") + sort_name(si.sort) + " cannot be used here");
    }
  }

  // Adds `item` to the index space of `sort`; `type` is this component's
  // view of it, when known.
  Result<void> push(Sort sort, const RtItem& item, const std::optional<ExternType>& type) {
    switch (sort) {
      case Sort::Func: {
        const auto* f = std::get_if<RtFuncPtr>(&item);
        if (f == nullptr) return make_error("expected a function");
        FuncTypePtr view = (*f)->type();
        if (type)
          if (const auto* ft = std::get_if<FuncTypePtr>(&*type)) view = *ft;
        s_.funcs_.push_back({*f, view});
        return {};
      }
      case Sort::Instance: {
        const auto* i = std::get_if<RtInstancePtr>(&item);
        if (i == nullptr) return make_error("expected an instance");
        s_.instances_.push_back(*i);
        return {};
      }
      case Sort::Type: {
        const auto* t = std::get_if<RtType>(&item);
        if (t == nullptr) return make_error("expected a type");
        s_.types_.push_back(*t);
        return {};
      }
      case Sort::Component: {
        const auto* c = std::get_if<ComponentPtr>(&item);
        if (c == nullptr) return make_error("expected a component");
        s_.components_.push_back(*c);
        return {};
      }
      case Sort::CoreModule: {
        const auto* m = std::get_if<CoreModulePtr>(&item);
        if (m == nullptr) return make_error("expected a core module");
        s_.core_modules_.push_back(*m);
        return {};
      }
      default: return make_error(std::string("a ") + sort_name(sort) + " cannot be added here");
    }
  }

  Result<void> push_extern(const ExternType& type, const RtItem& item) {
    if (std::holds_alternative<FuncTypePtr>(type)) return push(Sort::Func, item, type);
    if (std::holds_alternative<InstanceTypePtr>(type)) return push(Sort::Instance, item, type);
    if (std::holds_alternative<TypeBound>(type)) return push(Sort::Type, item, type);
    if (std::holds_alternative<ComponentTypePtr>(type)) return push(Sort::Component, item, type);
    if (std::holds_alternative<CoreModuleTypePtr>(type)) return push(Sort::CoreModule, item, type);
    return make_error("value imports and exports are not supported");
  }

  Result<RtCanonOptions> canon_options(const CanonOptions& o) {
    RtCanonOptions out;
    out.encoding = o.encoding;
    if (o.memory) {
      if (*o.memory >= s_.core_memories_.size()) return bad_index("core memory", *o.memory);
      out.memory = std::get<std::shared_ptr<engine::Memory>>(s_.core_memories_[*o.memory]);
    }
    if (o.realloc) {
      auto f = core_func(*o.realloc);
      if (!f.ok()) return std::move(f).error();
      out.realloc = *f;
    }
    if (o.post_return) {
      auto f = core_func(*o.post_return);
      if (!f.ok()) return std::move(f).error();
      out.post_return = *f;
    }
    out.async = o.async;
    if (o.callback) {
      auto f = core_func(*o.callback);
      if (!f.ok()) return std::move(f).error();
      out.callback = *f;
    }
    return out;
  }

  InstanceState& s_;
  const RtItemMap& args_;
};

Result<void> InstanceState::instantiate(const ComponentPtr& component, const RtItemMap& args) {
  component_ = component;
  exports_->owner = this;
  Instantiator walk(*this, args);
  size_t index = 0;
  for (const auto& def : component->definitions) {
    auto done = std::visit(walk, def);
    if (!done.ok()) return std::move(done).error().context("definition " + std::to_string(index));
    ++index;
  }
  return {};
}

}  // namespace stratus::component

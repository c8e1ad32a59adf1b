// The `aot` Engine: compile (decode, validate, wasm2c, cc, cache, dlopen) and
// instantiate (link imports through the per-instance import table).
#include "engine/aot/aot_engine.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "engine/aot/aot_stats.h"
#include "engine/aot/codegen.h"
#include "engine/aot/compiler.h"
#include "engine/aot/objects.h"
#include "engine/aot/runtime/registry.h"
#include "support/hash.h"

namespace stratus::engine {
namespace aot {
namespace {

std::string option_marks(const CompileOptions& options) {
  return std::string(options.exceptions ? "+exceptions" : "") + (options.multi_memory ? "+multi-memory" : "");
}

constexpr uint64_t kPageSize = 65536;

// Failed instantiations whose start function or segments trapped may already
// have written references to their functions into imported tables; the spec
// keeps those callable, so such instances are kept for the process lifetime.
void keep_forever(std::shared_ptr<AotInstance> instance) {
  static std::mutex mu;
  static auto* kept = new std::vector<std::shared_ptr<AotInstance>>;  // NOLINT: process lifetime
  std::lock_guard lock(mu);
  kept->push_back(std::move(instance));
}

bool limits_match(const Limits& actual, const Limits& wanted) {
  if (actual.min < wanted.min) return false;
  if (wanted.max) {
    if (!actual.max || *actual.max > *wanted.max) return false;
  }
  return true;
}

std::string describe(const ExternType& t) {
  switch (kind_of(t)) {
    case ExternKind::Func: return "func " + to_string(std::get<FuncType>(t));
    case ExternKind::Table: return "table";
    case ExternKind::Memory: return "memory";
    case ExternKind::Global: return "global";
    case ExternKind::Tag: return "tag";
  }
  return "?";
}

}  // namespace

AotInstance::AotInstance(std::shared_ptr<AotModule> module, const InstanceLimits& limits)
    : module_(std::move(module)), limits_(limits) {}

AotInstance::~AotInstance() {
  if (instance_.ctx()) module_->desc->free_instance(instance_.ctx());
}

void AotInstance::interrupt() {
  interrupted_.store(true);
  std::lock_guard lock(active_mu_);
  for (auto* flag : active_) __atomic_store_n(flag, 1u, __ATOMIC_SEQ_CST);
}

void AotInstance::enter(volatile uint32_t* thread_flag) {
  std::lock_guard lock(active_mu_);
  active_.push_back(thread_flag);
}

void AotInstance::leave(volatile uint32_t* thread_flag) {
  std::lock_guard lock(active_mu_);
  auto it = std::find(active_.begin(), active_.end(), thread_flag);
  if (it != active_.end()) active_.erase(it);
}

std::optional<size_t> AotModule::export_index(std::string_view name) const {
  std::call_once(export_names_once_, [this] {
    for (size_t i = 0; i < info.exports.size(); ++i) export_names_.emplace(info.exports[i].name, i);
  });
  auto it = export_names_.find(name);
  if (it == export_names_.end()) return std::nullopt;
  return it->second;
}

std::optional<Extern> AotInstance::get_export(std::string_view name) {
  const auto& exports = module_->info.exports;
  if (auto i = module_->export_index(name)) {
    auto self = shared_from_this();
    wasm_rt_function_ptr_t fn = module_->desc->exports[*i];
    auto storage = [&] { return reinterpret_cast<void* (*)(void*)>(fn)(instance_.ctx()); };
    const ExternType& type = exports[*i].type;
    switch (kind_of(type)) {
      case ExternKind::Func: {
        const auto& ft = std::get<FuncType>(type);
        uint32_t id = type_id(signature_of(ft));
        auto code = sig_code(id);
        if (!code) return std::nullopt;
        return Extern(std::make_shared<AotFunc>(ft, wasm_rt_funcref_t{id, fn, instance_.ctx()}, code->invoke, self));
      }
      case ExternKind::Memory:
        return Extern(std::make_shared<AotMemory>(static_cast<wasm_rt_memory_t*>(storage()), self));
      case ExternKind::Table:
        return Extern(std::make_shared<AotTable>(std::get<TableType>(type).element, storage(), self));
      case ExternKind::Global: return Extern(std::make_shared<AotGlobal>(std::get<GlobalType>(type), storage(), self));
      case ExternKind::Tag: {
        uint32_t index = module_->info.export_index[*i];
        if (index >= tags_.size()) return std::nullopt;
        return Extern(tags_[index]);
      }
    }
  }
  return std::nullopt;
}

class AotEngine : public Engine {
 public:
  explicit AotEngine(const EngineOptions& options) : compiler_(options) { wasm_rt_init(); }
  std::string_view name() const override { return "aot"; }

  Result<std::shared_ptr<Module>> compile(std::span<const uint8_t> bytes, const CompileOptions& options) override {
    std::span<const uint8_t> one[] = {bytes};
    return std::move(compile_many(one, options)[0]);
  }

  std::vector<Result<std::shared_ptr<Module>>> compile_many(std::span<const std::span<const uint8_t>> modules,
                                                            const CompileOptions& options) override;

  std::variant<std::shared_ptr<Instance>, Trap, Error> instantiate(const std::shared_ptr<Module>& module,
                                                                   std::span<const ImportValue> imports,
                                                                   const InstanceLimits& limits) override;

  std::shared_ptr<Func> host_func(FuncType type, HostCallback callback) override {
    return std::make_shared<AotHostFunc>(std::move(type), std::move(callback),
                                         [this](const FuncType& t) { return ensure_signature(t); });
  }

  Result<std::shared_ptr<Memory>> host_memory(MemoryType type) override {
    struct Storage {
      wasm_rt_memory_t mem{};
      ~Storage() { wasm_rt_free_memory(&mem); }
    };
    if (type.limits.min > 65536 ||
        (type.limits.max && (*type.limits.max > 65536 || *type.limits.max < type.limits.min)))
      return make_error("invalid memory limits");
    auto s = std::make_shared<Storage>();
    if (!stratus_rt_memory_init(&s->mem, static_cast<uint32_t>(type.limits.min),
                                static_cast<uint32_t>(type.limits.max.value_or(65536)), UINT64_MAX))
      return make_error("aot: cannot reserve memory");
    wasm_rt_memory_t* raw = &s->mem;
    return std::shared_ptr<Memory>(std::make_shared<AotMemory>(raw, std::move(s)));
  }

  Result<std::shared_ptr<Table>> host_table(TableType type) override {
    if (type.limits.min > UINT32_MAX || (type.limits.max && *type.limits.max < type.limits.min))
      return make_error("invalid table limits");
    uint32_t min = static_cast<uint32_t>(type.limits.min);
    uint32_t max = static_cast<uint32_t>(std::min<uint64_t>(type.limits.max.value_or(UINT32_MAX), UINT32_MAX));
    if (type.element == ValType::FuncRef) {
      struct Storage {
        wasm_rt_funcref_table_t t{};
        ~Storage() { wasm_rt_free_funcref_table(&t); }
      };
      auto s = std::make_shared<Storage>();
      if (!stratus_rt_table_init_funcref(&s->t, min, max)) return make_error("aot: cannot allocate table");
      void* raw = &s->t;
      return std::shared_ptr<Table>(std::make_shared<AotTable>(ValType::FuncRef, raw, std::move(s)));
    }
    if (type.element != ValType::ExternRef) return make_error("invalid table element type");
    struct Storage {
      wasm_rt_externref_table_t t{};
      ~Storage() { wasm_rt_free_externref_table(&t); }
    };
    auto s = std::make_shared<Storage>();
    if (!stratus_rt_table_init_externref(&s->t, min, max)) return make_error("aot: cannot allocate table");
    void* raw = &s->t;
    return std::shared_ptr<Table>(std::make_shared<AotTable>(ValType::ExternRef, raw, std::move(s)));
  }

  Result<std::shared_ptr<Global>> host_global(GlobalType type, Value init) override {
    auto raw = to_raw(init, type.type);
    if (!raw) return std::move(raw).error().context("host global");
    auto storage = std::make_shared<stratus_rt_value_t>(*raw);
    void* p = storage.get();
    return std::shared_ptr<Global>(std::make_shared<AotGlobal>(type, p, std::move(storage)));
  }

  AotStats stats() const { return compiler_.stats(); }

  bool remembers_modules() const override { return true; }

 private:
  Result<void> load(std::vector<std::shared_ptr<AotModule>>& modules, const std::filesystem::path& path);
  std::shared_ptr<AotModule> loaded(const std::string& hash);  // null: none alive
  Result<void> ensure_signature(const FuncType& type);

  Compiler compiler_;
  // The modules compiled and loaded, by hash (bytes and options), while
  // they live: the same bytes compiled again (another worker's linker, a
  // workload started again) take the module as it is, skipping the decode
  // and validation a disk-cache hit still needed.
  std::mutex loaded_mu_;
  std::unordered_map<std::string, std::weak_ptr<AotModule>> loaded_;
};

Result<void> AotEngine::load(std::vector<std::shared_ptr<AotModule>>& modules, const std::filesystem::path& path) {
  auto lib = Library::open(path);
  if (!lib) return std::move(lib).error();
  for (auto& m : modules) {
    const std::string c_name = "m" + m->hash_.substr(0, 32);
    auto* fn = reinterpret_cast<const stratus_rt_module_desc_t* (*)()>((*lib)->symbol(descriptor_symbol(c_name)));
    if (!fn) return make_error("aot: " + path.string() + " lacks module " + c_name);
    const auto* desc = fn();
    if (desc->abi != STRATUS_RT_ABI) return make_error("aot: " + path.string() + " has an old ABI");
    desc->init_module();
    for (uint32_t k = 0; k < desc->num_sigs; ++k)
      register_sig_code(type_id(desc->sigs[k].signature), SigCode{desc->sigs[k].invoke, desc->sigs[k].host_trampoline});
    m->library = *lib;
    m->desc = desc;
  }
  return {};
}

// A host function becomes a funcref through the C trampoline of its
// signature; if no loaded module has that signature, build (or load from the
// cache) a tiny object with just that code.
Result<void> AotEngine::ensure_signature(const FuncType& type) {
  static std::mutex mu;  // one builder per process at a time; this is rare
  std::lock_guard lock(mu);
  const std::string sig = signature_of(type);
  if (sig_code(type_id(sig))) return {};
  const std::string hashes[] = {"signature " + sig};
  const std::string key = compiler_.cache_key(hashes);
  const std::string name = "s" + key.substr(0, 32);
  auto path = compiler_.cached_path(key);
  std::error_code ec;
  Result<std::shared_ptr<Library>> lib = make_error("not cached");
  if (std::filesystem::exists(path, ec)) {
    lib = Library::open(path);
    if (lib) compiler_.count_cache_hit();
  }
  if (!lib) {  // absent, or damaged: build it (again)
    GeneratedC unit{name, signature_source(type, "stratus_sig_" + name), "", ""};
    auto built =
        compiler_.build(key, std::span(&unit, 1), "signature " + to_string(type), 0, std::chrono::steady_clock::now());
    if (!built) return std::move(built).error();
    lib = Library::open(*built);
    if (!lib) return std::move(lib).error();
  }
  auto* fn = reinterpret_cast<const stratus_rt_sig_t* (*)()>((*lib)->symbol("stratus_sig_" + name));
  if (!fn) return make_error("aot: " + path.string() + " lacks the signature code");
  const stratus_rt_sig_t* code = fn();
  register_sig_code(type_id(sig), SigCode{code->invoke, code->host_trampoline});
  return {};
}

std::vector<Result<std::shared_ptr<Module>>> AotEngine::compile_many(std::span<const std::span<const uint8_t>> inputs,
                                                                     const CompileOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Result<std::shared_ptr<Module>>> out;
  std::vector<DecodedModule> decoded;
  std::vector<std::shared_ptr<AotModule>> batch;  // distinct modules to build
  std::vector<size_t> batch_input;                // index of each in `inputs`
  std::map<std::string, std::shared_ptr<AotModule>> by_hash;
  std::vector<std::shared_ptr<AotModule>> order;  // per input, null if it failed
  const std::string what = options.name.empty() ? "module" : options.name;
  for (auto bytes : inputs) {
    // The options that change what is generated are part of the identity
    // (and so of the cache key): hashed in, so the name stays 64 hex digits.
    std::string hash = sha256_hex(bytes);
    if (options.exceptions || options.multi_memory) hash = Sha256().update(hash).update(option_marks(options)).hex();
    if (auto live = loaded(hash)) {
      order.push_back(live);
      out.push_back(std::shared_ptr<Module>(live));
      continue;
    }
    auto d = decode_module(bytes, options.multi_memory, options.exceptions);
    if (!d) {
      Error err = std::move(d).error();
      err.message = what + ": " + err.message;
      out.emplace_back(std::move(err));
      order.push_back(nullptr);
      continue;
    }
    auto& m = by_hash[hash];
    if (!m) {
      m = std::make_shared<AotModule>();
      m->hash_ = hash;
      m->info = d->info;
      batch.push_back(m);
      batch_input.push_back(order.size());
      decoded.push_back(std::move(*d));
    }
    order.push_back(m);
    out.push_back(std::shared_ptr<Module>(m));
  }
  if (batch.empty()) return out;

  auto build_and_load = [&](std::vector<std::shared_ptr<AotModule>>& mods,
                            std::vector<DecodedModule*>& decs) -> Result<void> {
    std::vector<std::string> hashes;
    for (auto& m : mods) hashes.push_back(m->hash_);
    std::string key = compiler_.cache_key(hashes);
    auto path = compiler_.cached_path(key);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      auto loaded = load(mods, path);
      if (loaded) {
        compiler_.count_cache_hit();
        return {};
      }
    }
    std::vector<GeneratedC> units;
    uint64_t functions = 0;
    for (size_t i = 0; i < mods.size(); ++i) {
      functions += mods[i]->info.num_functions;
      auto c = generate_c(*decs[i], "m" + mods[i]->hash_.substr(0, 32));
      if (!c) return std::move(c).error();
      units.push_back(std::move(*c));
    }
    std::string label = mods.size() == 1 ? what : what + " (" + std::to_string(mods.size()) + " modules)";
    auto built = compiler_.build(key, units, label, functions, started);
    if (!built) return std::move(built).error();
    return load(mods, *built);
  };

  std::vector<DecodedModule*> decs;
  for (auto& d : decoded) decs.push_back(&d);
  auto all = build_and_load(batch, decs);
  std::map<AotModule*, Error> failed;
  if (!all && batch.size() == 1) failed[batch[0].get()] = all.error();
  if (!all && batch.size() > 1) {
    // Codegen consumed the IR; decode again and build each module on its
    // own, so one module the C compiler rejects does not fail the others.
    for (size_t i = 0; i < batch.size(); ++i) {
      auto again = decode_module(inputs[batch_input[i]], options.multi_memory, options.exceptions);
      if (!again) {
        failed[batch[i].get()] = std::move(again).error();
        continue;
      }
      std::vector<std::shared_ptr<AotModule>> one{batch[i]};
      std::vector<DecodedModule*> one_dec{&*again};
      auto r = build_and_load(one, one_dec);
      if (!r) failed[batch[i].get()] = r.error();
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (order[i] && failed.count(order[i].get())) out[i] = Error(failed[order[i].get()]).context(what);
  std::lock_guard lock(loaded_mu_);
  std::erase_if(loaded_, [](const auto& entry) { return entry.second.expired(); });
  for (const auto& m : batch)
    if (failed.count(m.get()) == 0) loaded_[m->hash_] = m;
  return out;
}

std::shared_ptr<AotModule> AotEngine::loaded(const std::string& hash) {
  std::lock_guard lock(loaded_mu_);
  auto it = loaded_.find(hash);
  return it == loaded_.end() ? nullptr : it->second.lock();
}

std::variant<std::shared_ptr<Instance>, Trap, Error> AotEngine::instantiate(const std::shared_ptr<Module>& module,
                                                                            std::span<const ImportValue> imports,
                                                                            const InstanceLimits& limits) {
  auto m = std::dynamic_pointer_cast<AotModule>(module);
  if (!m || !m->desc) return make_error("aot: module was not compiled by the aot engine");
  const ModuleInfo& info = m->info;
  if (limits.max_memory_bytes) {
    uint64_t total = 0;
    for (const auto& mem : info.memories) total += mem.limits.min * kPageSize;
    if (total > *limits.max_memory_bytes)
      return make_error("instance memory limit exceeded: the module needs " + std::to_string(total) +
                        " bytes of memory, the limit is " + std::to_string(*limits.max_memory_bytes));
  }
  auto inst = std::make_shared<AotInstance>(m, limits);
  // One slot per import, then one per defined tag (codegen.cc's tag_slot()).
  inst->imports_ = CtxBlock(
      CtxHeader::Imports, inst.get(),
      sizeof(stratus_rt_imports_t) + (info.imports.size() + info.tags.size()) * sizeof(stratus_rt_import_slot_t));
  auto* table = static_cast<stratus_rt_imports_t*>(inst->imports_.ctx());
  table->self = table;
  table->owner = inst.get();
  bool imports_table = false;
  for (size_t k = 0; k < info.imports.size(); ++k) {
    const ImportDesc& want = info.imports[k];
    // Callers give imports in the module's order, so the k-th is looked at
    // first; otherwise the last one of that name is taken.
    const ImportValue* found = nullptr;
    if (k < imports.size() && imports[k].module == want.module && imports[k].name == want.name &&
        imports.size() == info.imports.size()) {
      found = &imports[k];
    } else {
      for (const auto& iv : imports)
        if (iv.module == want.module && iv.name == want.name) found = &iv;
    }
    auto where_text = [&] { return "import '" + want.module + "." + want.name + "'"; };
    if (!found)
      return make_error("unknown import: " + where_text() + " (" + describe(want.type) + ") was not supplied");
    if (kind_of(found->value) != kind_of(want.type))
      return make_error("incompatible import type: " + where_text() + " expects a " + describe(want.type));
    stratus_rt_import_slot_t& slot = table->slot[k];
    switch (kind_of(want.type)) {
      case ExternKind::Func: {
        const auto& f = std::get<std::shared_ptr<Func>>(found->value);
        if (!f || f->type() != std::get<FuncType>(want.type))
          return make_error("incompatible import type: " + where_text() + " expects " + describe(want.type) + ", got " +
                            (f ? to_string(f->type()) : "null"));
        if (auto* wf = dynamic_cast<AotFunc*>(f.get())) {
          slot.ptr = reinterpret_cast<void*>(wf->raw().func);
          slot.ctx = wf->raw().module_instance;
        } else if (auto* hf = dynamic_cast<AotHostFunc*>(f.get())) {
          auto code = sig_code(hf->type_id());
          if (!code) return make_error("aot: no code for signature of " + where_text());
          auto site = std::make_unique<HostSite>();
          site->block = CtxBlock(CtxHeader::HostSite, site.get(), 0);
          site->func = hf;
          site->caller = inst.get();
          slot.ptr = reinterpret_cast<void*>(code->host_trampoline);
          slot.ctx = site->block.ctx();
          inst->host_sites_.push_back(std::move(site));
        } else {
          return make_error(where_text() + ": function from another engine");
        }
        break;
      }
      case ExternKind::Memory: {
        auto* mem = dynamic_cast<AotMemory*>(std::get<std::shared_ptr<Memory>>(found->value).get());
        if (!mem) return make_error(where_text() + ": memory from another engine");
        if (!limits_match(mem->type().limits, std::get<MemoryType>(want.type).limits))
          return make_error("incompatible import type: " + where_text() + ": memory limits do not match");
        slot.ptr = mem->raw();
        break;
      }
      case ExternKind::Table: {
        auto* t = dynamic_cast<AotTable*>(std::get<std::shared_ptr<Table>>(found->value).get());
        if (!t) return make_error(where_text() + ": table from another engine");
        const auto& tt = std::get<TableType>(want.type);
        if (t->element() != tt.element || !limits_match(t->type().limits, tt.limits))
          return make_error("incompatible import type: " + where_text() + ": table type does not match");
        slot.ptr = t->raw();
        imports_table = true;
        break;
      }
      case ExternKind::Global: {
        auto* g = dynamic_cast<AotGlobal*>(std::get<std::shared_ptr<Global>>(found->value).get());
        if (!g) return make_error(where_text() + ": global from another engine");
        if (g->type() != std::get<GlobalType>(want.type))
          return make_error("incompatible import type: " + where_text() + ": global type does not match");
        slot.ptr = g->raw();
        break;
      }
      case ExternKind::Tag: {
        const auto& tag = std::get<std::shared_ptr<Tag>>(found->value);
        auto* t = dynamic_cast<AotTag*>(tag.get());
        if (!t) return make_error(where_text() + ": tag from another engine");
        if (t->type() != std::get<TagType>(want.type))
          return make_error("incompatible import type: " + where_text() + ": tag type does not match");
        slot.ptr = t->raw();
        inst->tags_.push_back(tag);
        break;
      }
    }
    inst->import_values_.push_back(found->value);
  }
  // Tags are generative: each instance defines new ones.
  for (size_t d = 0; d < info.tags.size(); ++d) {
    auto tag = std::make_shared<AotTag>(info.tags[d]);
    table->slot[info.imports.size() + d].ptr = tag->raw();
    inst->tags_.push_back(std::move(tag));
  }

  inst->instance_ = CtxBlock(CtxHeader::Instance, inst.get(), m->desc->instance_size);
  inst->imports_table_ = imports_table;
  if (auto trap = inst->run_instantiate()) {
    if (imports_table) keep_forever(inst);
    return *trap;
  }
  return std::shared_ptr<Instance>(inst);
}

std::optional<Trap> AotInstance::run_instantiate() {
  auto* table = static_cast<stratus_rt_imports_t*>(imports_.ctx());
  stratus_rt_instantiation_t call{module_->desc->instantiate, instance_.ctx(), table};
  stratus_rt_thread_t& t = stratus_rt_thread;
  const uint64_t saved_limit = t.pending_memory_limit;
  t.pending_memory_limit = limits_.max_memory_bytes.value_or(UINT64_MAX);
  auto trap = run_guarded(this, [&] { return stratus_rt_instantiate(&call); });
  t.pending_memory_limit = saved_limit;
  return trap;
}

// The generated instance struct holds what the module defines (memories and
// tables by value, globals, pointers to imports); freeing it and running the
// instantiate function again on the zeroed struct remakes exactly what
// instantiation made, at the same addresses, so exports, funcrefs in tables
// and other instances' import slots stay valid. Freed memories go back to
// the runtime's pool, so this costs a few page clears, not mappings.
std::variant<std::monostate, Trap, Error> AotInstance::reinitialize() {
  if (unusable_) return make_error("aot: the instance's last reinitialization trapped");
  if (interrupted_.load()) return make_error("aot: an interrupted instance cannot be reinitialized");
  {
    std::lock_guard lock(active_mu_);
    if (!active_.empty()) return make_error("aot: the instance is running");
  }
  module_->desc->free_instance(instance_.ctx());
  std::memset(instance_.ctx(), 0, module_->desc->instance_size);
  if (auto trap = run_instantiate()) {
    unusable_ = true;
    if (imports_table_) keep_forever(shared_from_this());
    return *trap;
  }
  return std::monostate{};
}

}  // namespace aot

Result<std::unique_ptr<Engine>> make_aot_engine(const EngineOptions& options) {
  return std::unique_ptr<Engine>(std::make_unique<aot::AotEngine>(options));
}

std::optional<AotStats> aot_stats(const Engine& engine) {
  if (auto* e = dynamic_cast<const aot::AotEngine*>(&engine)) {
    AotStats stats = e->stats();
    stats.memory_bytes = stratus_rt_memory_bytes();
    return stats;
  }
  return std::nullopt;
}

}  // namespace stratus::engine

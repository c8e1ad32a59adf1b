#include "engine/interp/interp_engine.h"

#include <cstdio>
#include <unordered_map>

#include <wabt/binary-reader.h>
#include <wabt/error.h>
#include <wabt/feature.h>
#include <wabt/interp/binary-reader-interp.h>

#include "engine/eh_lower.h"
#include "engine/interp/convert.h"
#include "engine/interp/externals.h"
#include "engine/interp/run.h"
#include "engine/interp/store.h"
#include "engine/interp/wabt_access.h"
#include "engine/prescan.h"
#include "support/hash.h"

namespace stratus::engine {
namespace interp {
namespace {

constexpr uint64_t kPageSize = 65536;

// The WebAssembly 2.0 feature set, and nothing beyond it.
wabt::Features wasm2_features() {
  wabt::Features features;
  features.enable_mutable_globals();
  features.enable_sign_extension();
  features.enable_sat_float_to_int();
  features.enable_multi_value();
  features.enable_bulk_memory();
  features.enable_reference_types();
  features.enable_simd();
  return features;
}

class InterpModule final : public Module {
 public:
  InterpModule(StorePtr store, wi::Module::Ptr module, std::vector<ImportDesc> imports, std::vector<ExportDesc> exports,
               std::string hash, std::optional<uint32_t> start)
      : module_(std::move(store), std::move(module)),
        imports_(std::move(imports)),
        exports_(std::move(exports)),
        hash_(std::move(hash)),
        start_(start) {}

  const std::vector<ImportDesc>& imports() const override { return imports_; }
  const std::vector<ExportDesc>& exports() const override { return exports_; }
  const std::string& hash() const override { return hash_; }

  const Rooted<wi::Module>& wabt_module() const { return module_; }
  std::optional<uint32_t> start() const { return start_; }

 private:
  Rooted<wi::Module> module_;
  std::vector<ImportDesc> imports_;
  std::vector<ExportDesc> exports_;
  std::string hash_;
  std::optional<uint32_t> start_;  // run by us, so limits apply to it
};

class InterpInstance final : public Instance {
 public:
  InterpInstance(std::shared_ptr<const InterpModule> module, std::shared_ptr<InstanceCore> core)
      : module_(std::move(module)), core_(std::move(core)) {}

  std::optional<Extern> get_export(std::string_view name) override {
    const auto& store = core_->instance.store();
    StoreLock lock(store->mutex);
    if (auto it = cache_.find(std::string(name)); it != cache_.end()) return it->second;
    const auto& exports = module_->exports();
    for (size_t i = 0; i < exports.size(); ++i) {
      if (exports[i].name != name) continue;
      auto ext = wrap_export(i);
      if (!ext) return std::nullopt;
      cache_.emplace(std::string(name), *ext);
      return *ext;
    }
    return std::nullopt;
  }

  const Module& module() const override { return *module_; }
  void interrupt() override { core_->interrupted.store(true); }

 private:
  Result<Extern> wrap_export(size_t index) {
    auto& store = *core_->instance.store();
    wi::Ref ref = core_->instance->exports()[index];
    if (kind_of(module_->exports()[index].type) == ExternKind::Func) {
      // Carry the type we already know and this instance's limits.
      auto type = std::get<FuncType>(module_->exports()[index].type);
      auto func = std::make_shared<InterpFunc>(store.shared_from_this(), store.store.UnsafeGet<wi::Func>(ref),
                                               std::move(type), core_);
      return Extern{std::move(func)};
    }
    return wrap_extern(store, ref);
  }

  std::shared_ptr<const InterpModule> module_;
  std::shared_ptr<InstanceCore> core_;
  std::unordered_map<std::string, Extern> cache_;
};

std::string describe_errors(const wabt::Errors& errors, const std::string& name) {
  std::string out;
  for (const auto& error : errors) {
    if (error.error_level != wabt::ErrorLevel::Error) continue;
    if (!out.empty()) out += "; ";
    char where[64];
    std::snprintf(where, sizeof where, "at byte offset %zu (0x%zx): ", error.loc.offset, error.loc.offset);
    out += where + error.message;
  }
  if (out.empty()) out = "invalid module";
  return name.empty() ? out : name + ": " + out;
}

class InterpEngine final : public Engine {
 public:
  InterpEngine() : store_(std::make_shared<StoreState>(wasm2_features())) {}

  std::string_view name() const override { return "interp"; }

  Result<std::shared_ptr<Module>> compile(std::span<const uint8_t> bytes, const CompileOptions& options) override {
    if (auto framing = prescan_module(bytes); !framing.ok())
      return std::move(framing).error().context(options.name.empty() ? "module" : options.name);
    // wabt reports a custom section whose header (name) is malformed as a
    // "custom section error"; the spec rejects those, so fail on them. The
    // contents of known custom sections are not read (no debug names).
    wabt::Features features = store_->store.features();
    if (options.multi_memory) features.enable_multi_memory();
    // wabt reads the legacy exception opcodes; try_table becomes try/catch.
    std::optional<std::vector<uint8_t>> lowered;
    if (options.exceptions) {
      features.enable_exceptions();
      auto rewritten = lower_try_table(bytes);
      if (!rewritten) return std::move(rewritten).error().context(options.name.empty() ? "module" : options.name);
      lowered = std::move(*rewritten);
    }
    std::span<const uint8_t> input = lowered ? std::span<const uint8_t>(*lowered) : bytes;
    wabt::ReadBinaryOptions read_options(features, nullptr, /*read_debug_names=*/false,
                                         /*stop_on_first_error=*/true,
                                         /*fail_on_custom_section_error=*/true);
    wabt::Errors errors;
    wi::ModuleDesc desc;
    std::string name = options.name.empty() ? "module" : options.name;
    if (wabt::Failed(wi::ReadBinaryInterp(name, input.data(), input.size(), read_options, &errors, &desc))) {
      return make_error(describe_errors(errors, options.name));
    }
    // wabt 1.0.32 records a catch handler's value-stack height without the
    // function's declared locals, so catching an exception cut the locals
    // off the stack (and read past it). Upstream fixed this after 1.0.32
    // (wabt #2476); until then, add them here.
    for (auto& func : desc.funcs) {
      uint32_t locals = func.locals.empty() ? 0 : func.locals.back().end;
      for (auto& handler : func.handlers) handler.values += locals;
    }
    std::optional<uint32_t> start;
    if (!desc.starts.empty()) start = desc.starts.front().func_index;
    desc.starts.clear();

    StoreLock lock(store_->mutex);
    auto module = wi::Module::New(store_->store, std::move(desc));
    std::vector<ImportDesc> imports;
    for (const auto& import : module->import_types()) {
      auto type = from_wabt(*import.type);
      if (!type) return std::move(type).error().context(options.name + ": import " + import.module + "." + import.name);
      imports.push_back(ImportDesc{import.module, import.name, std::move(*type)});
    }
    std::vector<ExportDesc> exports;
    for (const auto& export_ : module->export_types()) {
      auto type = from_wabt(*export_.type);
      if (!type) return std::move(type).error().context(options.name + ": export " + export_.name);
      exports.push_back(ExportDesc{export_.name, std::move(*type)});
    }
    return std::shared_ptr<Module>(std::make_shared<InterpModule>(store_, std::move(module), std::move(imports),
                                                                  std::move(exports), sha256_hex(bytes), start));
  }

  std::variant<std::shared_ptr<Instance>, Trap, Error> instantiate(const std::shared_ptr<Module>& module,
                                                                   std::span<const ImportValue> imports,
                                                                   const InstanceLimits& limits) override {
    auto interp_module = std::dynamic_pointer_cast<const InterpModule>(module);
    if (!interp_module || interp_module->wabt_module().store() != store_) {
      return make_error("module was not compiled by this interp engine");
    }
    StoreLock lock(store_->mutex);
    store_->maybe_collect();
    const auto& wmodule = interp_module->wabt_module();
    const auto& desc = wmodule->desc();

    wi::RefVec refs;
    for (const auto& import : desc.imports) {
      const auto& type = import.type;
      const ImportValue* found = nullptr;
      for (const auto& value : imports) {
        if (value.module == type.module && value.name == type.name) found = &value;
      }
      std::string what = "import " + type.module + "." + type.name;
      if (!found) return make_error("missing " + what);
      auto ref = unwrap_extern(*store_, found->value);
      if (!ref) return std::move(ref).error().context(what);
      wi::Trap::Ptr mismatch;
      auto ext = store_->store.UnsafeGet<wi::Extern>(*ref);
      if (wabt::Failed(ext->Match(store_->store, type, &mismatch))) {
        return make_error(what + ": incompatible import type: " + (mismatch ? mismatch->message() : "mismatch"));
      }
      refs.push_back(*ref);
    }

    if (limits.max_memory_bytes) {
      uint64_t initial = 0;
      for (const auto& memory : desc.memories) initial += memory.type.limits.initial * kPageSize;
      if (initial > *limits.max_memory_bytes) {
        return make_error("initial memory of " + std::to_string(initial) + " bytes exceeds the instance limit of " +
                          std::to_string(*limits.max_memory_bytes) + " bytes");
      }
    }

    wi::Trap::Ptr trap;
    auto instance = wi::Instance::Instantiate(store_->store, wmodule.ref(), refs, &trap);
    if (!instance) return to_trap(*store_, trap);

    if (limits.max_memory_bytes) {
      // Defined memories come after imported ones in the instance's list.
      uint64_t pages = *limits.max_memory_bytes / kPageSize;
      size_t first = instance->memories().size() - desc.memories.size();
      for (size_t i = first; i < instance->memories().size(); ++i) {
        auto memory = store_->store.UnsafeGet<wi::Memory>(instance->memories()[i]);
        uint64_t others = 0;
        for (size_t j = first; j < instance->memories().size(); ++j) {
          if (j != i) others += store_->store.UnsafeGet<wi::Memory>(instance->memories()[j])->PageSize();
        }
        cap_memory_pages(*memory, pages > others ? pages - others : 0);
      }
    }

    auto core = std::make_shared<InstanceCore>(store_, instance, limits);
    store_->add_core(instance.get(), core);
    auto result = std::make_shared<InterpInstance>(interp_module, core);
    core->owner = result;

    if (auto start = interp_module->start()) {
      wi::Func::Ptr func = store_->store.UnsafeGet<wi::Func>(instance->funcs()[*start]);
      auto done = call_func(*store_, func, FuncType{}, {}, core.get());
      if (done.trapped()) return done.trap();
      if (!done.ok()) return done.error();
    }
    return std::shared_ptr<Instance>(std::move(result));
  }

  std::shared_ptr<Func> host_func(FuncType type, HostCallback callback) override {
    StoreLock lock(store_->mutex);
    auto func = make_host_func(*store_, type, std::move(callback));
    return std::make_shared<InterpFunc>(store_, std::move(func), std::move(type), nullptr);
  }

  Result<std::shared_ptr<Memory>> host_memory(MemoryType type) override {
    const auto& l = type.limits;
    if (l.min > 65536 || (l.max && (*l.max > 65536 || *l.max < l.min))) {
      return make_error("invalid memory limits (pages: min " + std::to_string(l.min) + ")");
    }
    StoreLock lock(store_->mutex);
    auto memory = wi::Memory::New(store_->store, wi::MemoryType(to_wabt(l)));
    return std::shared_ptr<Memory>(std::make_shared<InterpMemory>(store_, std::move(memory)));
  }

  Result<std::shared_ptr<Table>> host_table(TableType type) override {
    const auto& l = type.limits;
    if (type.element != ValType::FuncRef && type.element != ValType::ExternRef) {
      return make_error("table element type must be a reference type");
    }
    if (l.min > UINT32_MAX || (l.max && (*l.max > UINT32_MAX || *l.max < l.min))) {
      return make_error("invalid table limits");
    }
    StoreLock lock(store_->mutex);
    auto table = wi::Table::New(store_->store, wi::TableType(to_wabt(type.element), to_wabt(l)));
    return std::shared_ptr<Table>(std::make_shared<InterpTable>(store_, std::move(table), type.element));
  }

  Result<std::shared_ptr<Global>> host_global(GlobalType type, Value init) override {
    StoreLock lock(store_->mutex);
    auto value = to_wabt(*store_, init, type.type);
    if (!value) return std::move(value).error().context("global initial value");
    auto mut = type.mutable_ ? wi::Mutability::Var : wi::Mutability::Const;
    auto global = wi::Global::New(store_->store, wi::GlobalType(to_wabt(type.type), mut), *value);
    return std::shared_ptr<Global>(std::make_shared<InterpGlobal>(store_, std::move(global), type));
  }

 private:
  StorePtr store_;
};

}  // namespace
}  // namespace interp

Result<std::unique_ptr<Engine>> make_interp_engine(const EngineOptions&) {
  return std::unique_ptr<Engine>(std::make_unique<interp::InterpEngine>());
}

}  // namespace stratus::engine

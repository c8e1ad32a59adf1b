// The AOT backend's implementations of the engine interface: modules,
// instances and externals over wasm2c's data structures.
#pragma once

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/aot/compiler.h"
#include "engine/aot/decode.h"
#include "engine/aot/runtime/rt_internal.h"
#include "engine/engine.h"

namespace stratus::engine::aot {

// Every context pointer we hand to generated code (a wasm2c instance, an
// import table, a host-call site) is preceded by this header, so a funcref
// read back from a table or global can be traced to the object it belongs to.
struct CtxHeader {
  enum Kind : uint32_t { Instance = 1, Imports = 2, HostSite = 3 };
  uint64_t magic;
  Kind kind;
  void* object;
};
inline constexpr uint64_t kCtxMagic = 0x5354524154555321ull;
inline constexpr size_t kCtxPrefix = 64;

// Zeroed storage for a context plus its header; ctx() is what generated code sees.
class CtxBlock {
 public:
  CtxBlock() = default;
  CtxBlock(CtxHeader::Kind kind, void* object, size_t payload);
  void* ctx() const { return mem_ ? mem_.get() + kCtxPrefix : nullptr; }
  static const CtxHeader* header_of(const void* ctx);

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> mem_;
};

class AotInstance;
class AotHostFunc;

class AotModule : public Module {
 public:
  const std::vector<ImportDesc>& imports() const override { return info.imports; }
  const std::vector<ExportDesc>& exports() const override { return info.exports; }
  const std::string& hash() const override { return hash_; }

  std::string hash_;
  ModuleInfo info;
  std::shared_ptr<Library> library;
  const stratus_rt_module_desc_t* desc = nullptr;

  // The index in info.exports of the export named `name`, if any (an index
  // made on first use: a component looks exports up on every instantiation).
  std::optional<size_t> export_index(std::string_view name) const;

 private:
  mutable std::once_flag export_names_once_;
  mutable std::unordered_map<std::string_view, size_t> export_names_;
};

struct HostSite {
  CtxBlock block;
  AotHostFunc* func = nullptr;
  AotInstance* caller = nullptr;  // the importing instance, or null (reached through a table)
};

class AotHostFunc : public Func, public std::enable_shared_from_this<AotHostFunc> {
 public:
  // `ensure_code` builds the signature's code if no loaded object has it.
  AotHostFunc(FuncType type, HostCallback callback, std::function<Result<void>(const FuncType&)> ensure_code);
  const FuncType& type() const override { return type_; }
  CallResult call(std::span<const Value> args) override;

  const HostCallback& callback() const { return callback_; }
  uint32_t type_id() const { return type_id_; }
  // This function as a wasm funcref (for tables, globals, arguments).
  Result<wasm_rt_funcref_t> raw();

 private:
  FuncType type_;
  HostCallback callback_;
  std::function<Result<void>(const FuncType&)> ensure_code_;
  uint32_t type_id_;
  HostSite site_;
};

// A wasm function of any instance, as the funcref generated code uses.
class AotFunc : public Func {
 public:
  AotFunc(FuncType type, wasm_rt_funcref_t raw, stratus_rt_invoker_t invoker, std::shared_ptr<AotInstance> owner)
      : type_(std::move(type)), raw_(raw), invoker_(invoker), owner_(std::move(owner)) {}
  const FuncType& type() const override { return type_; }
  CallResult call(std::span<const Value> args) override;
  const wasm_rt_funcref_t& raw() const { return raw_; }

 private:
  FuncType type_;
  wasm_rt_funcref_t raw_;
  stratus_rt_invoker_t invoker_;
  std::shared_ptr<AotInstance> owner_;
};

class AotMemory : public Memory {
 public:
  AotMemory(wasm_rt_memory_t* mem, std::shared_ptr<void> owner) : mem_(mem), owner_(std::move(owner)) {}
  MemoryType type() const override;
  uint64_t size_bytes() const override { return mem_->size; }
  std::optional<std::span<uint8_t>> view(uint64_t offset, uint64_t len) override;
  std::optional<uint64_t> grow(uint64_t delta_pages) override;
  const void* identity() const override { return mem_; }
  wasm_rt_memory_t* raw() const { return mem_; }

 private:
  wasm_rt_memory_t* mem_;
  std::shared_ptr<void> owner_;
};

class AotTable : public Table {
 public:
  // `storage` is a wasm_rt_funcref_table_t* or wasm_rt_externref_table_t*.
  AotTable(ValType element, void* storage, std::shared_ptr<void> owner)
      : element_(element), storage_(storage), owner_(std::move(owner)) {}
  TableType type() const override;
  uint64_t size() const override;
  Result<Ref> get(uint64_t index) const override;
  Result<void> set(uint64_t index, const Ref& value) override;
  std::optional<uint64_t> grow(uint64_t delta, const Ref& init) override;
  void* raw() const { return storage_; }
  ValType element() const { return element_; }

 private:
  ValType element_;
  void* storage_;
  std::shared_ptr<void> owner_;
};

class AotGlobal : public Global {
 public:
  AotGlobal(GlobalType type, void* storage, std::shared_ptr<void> owner)
      : type_(type), storage_(storage), owner_(std::move(owner)) {}
  GlobalType type() const override { return type_; }
  Value get() const override;
  Result<void> set(const Value& value) override;
  void* raw() const { return storage_; }

 private:
  GlobalType type_;
  void* storage_;
  std::shared_ptr<void> owner_;
};

// A tag: a number, unique among live tags, that generated code compares
// (wasm_rt_exception_tag() == *slot). Numbers are reused once the tag is gone.
class AotTag : public Tag {
 public:
  explicit AotTag(TagType type);
  ~AotTag() override;
  AotTag(const AotTag&) = delete;
  AotTag& operator=(const AotTag&) = delete;
  const TagType& type() const override { return type_; }
  uint32_t* raw() { return &id_; }

 private:
  TagType type_;
  uint32_t id_;
};

class AotInstance : public Instance, public std::enable_shared_from_this<AotInstance> {
 public:
  AotInstance(std::shared_ptr<AotModule> module, const InstanceLimits& limits);
  ~AotInstance() override;
  std::optional<Extern> get_export(std::string_view name) override;
  const Module& module() const override { return *module_; }
  void interrupt() override;
  std::variant<std::monostate, Trap, Error> reinitialize() override;
  // Runs the module's instantiate function (segments, start) into instance_.
  std::optional<Trap> run_instantiate();

  bool interrupted() const { return interrupted_.load(); }
  const InstanceLimits& limits() const { return limits_; }
  // A thread starts / stops running a call into this instance; interrupt()
  // raises the interrupt flag of every thread in between.
  void enter(volatile uint32_t* thread_flag);
  void leave(volatile uint32_t* thread_flag);

  std::shared_ptr<AotModule> module_;
  InstanceLimits limits_;
  CtxBlock instance_;
  CtxBlock imports_;
  std::vector<Extern> import_values_;       // keeps what we import alive
  std::vector<std::shared_ptr<Tag>> tags_;  // the tag index space: imported, then defined
  std::vector<std::unique_ptr<HostSite>> host_sites_;
  bool imports_table_ = false;  // segments may write into another instance's table
  bool unusable_ = false;       // a reinitialization trapped
  std::atomic<bool> interrupted_{false};
  std::mutex active_mu_;
  std::vector<volatile uint32_t*> active_;
};

// ---- conversions between engine values and the C representation

Result<stratus_rt_value_t> to_raw(const Value& v, ValType expected);
Value from_raw(const stratus_rt_value_t& v, ValType type);
Result<wasm_rt_funcref_t> funcref_to_raw(const Ref& ref);
Ref funcref_from_raw(const wasm_rt_funcref_t& raw);

// Calls into wasm on this thread with the limits of `owner` (may be null).
// Returns WASM_RT_TRAP_NONE or a trap converted to engine::Trap.
std::optional<Trap> invoke_guarded(const stratus_rt_invocation_t& call, AotInstance* owner);
Trap trap_from_code(uint32_t code);

// Sets up trap-frame limits and deadlines around `body` (shared by calls and instantiation).
std::optional<Trap> run_guarded(AotInstance* owner, const std::function<uint32_t()>& body);

}  // namespace stratus::engine::aot

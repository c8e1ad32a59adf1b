// The engine-neutral interface to core WebAssembly. The rest of stratus talks
// to core Wasm only through these types; the `aot` (wasm2c + C compiler) and
// `interp` (wabt interpreter) backends implement them and are interchangeable.
//
// Ownership: an Engine outlives every Module and Instance made from it.
// Modules, Instances and the externals (Func, Memory, Table, Global) are
// reference-counted (shared_ptr) because instances keep the externals they
// import alive, and externals keep their owning instance alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "support/result.h"

namespace stratus::engine {

// ---------------------------------------------------------------- types

enum class ValType : uint8_t { I32, I64, F32, F64, V128, FuncRef, ExternRef };
std::string_view to_string(ValType type);

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
  bool operator==(const FuncType&) const = default;
};
std::string to_string(const FuncType& type);  // "(i32, i64) -> (f32)"

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
  bool operator==(const Limits&) const = default;
};

struct MemoryType {
  Limits limits;  // in 64 KiB pages
  bool operator==(const MemoryType&) const = default;
};

struct TableType {
  ValType element = ValType::FuncRef;
  Limits limits;
  bool operator==(const TableType&) const = default;
};

struct GlobalType {
  ValType type = ValType::I32;
  bool mutable_ = false;
  bool operator==(const GlobalType&) const = default;
};

// An exception tag (the exception-handling proposal): the types of the
// values a `throw` of it carries. Only modules compiled with
// CompileOptions::exceptions define or import tags.
struct TagType {
  std::vector<ValType> params;
  bool operator==(const TagType&) const = default;
};

enum class ExternKind : uint8_t { Func, Table, Memory, Global, Tag };
std::string_view to_string(ExternKind kind);

using ExternType = std::variant<FuncType, TableType, MemoryType, GlobalType, TagType>;
ExternKind kind_of(const ExternType& type);

struct ImportDesc {
  std::string module;
  std::string name;
  ExternType type;
};

struct ExportDesc {
  std::string name;
  ExternType type;
};

// ---------------------------------------------------------------- values

struct V128 {
  uint8_t bytes[16] = {};
  bool operator==(const V128&) const = default;
};

class Func;

// A reference value. For externref, `host` is an opaque host word that the
// engine never interprets (the spec tests use small integers). For funcref,
// `func` is the function. Null references have neither.
struct Ref {
  bool is_null = true;
  uintptr_t host = 0;
  std::shared_ptr<Func> func;

  static Ref null() { return Ref{}; }
  static Ref extern_ref(uintptr_t host_word) { return Ref{false, host_word, nullptr}; }
  static Ref func_ref(std::shared_ptr<Func> f) { return Ref{false, 0, std::move(f)}; }
};

class Value {
 public:
  Value() : type_(ValType::I32) {}
  static Value i32(uint32_t v) { return scalar(ValType::I32, v); }
  static Value i64(uint64_t v) { return scalar(ValType::I64, v); }
  // Floats travel as raw bits so NaN payloads survive every hop.
  static Value f32_bits(uint32_t bits) { return scalar(ValType::F32, bits); }
  static Value f64_bits(uint64_t bits) { return scalar(ValType::F64, bits); }
  static Value f32(float v);
  static Value f64(double v);
  static Value v128(const V128& v) {
    Value x(ValType::V128);
    x.bits_.v128 = v;
    return x;
  }
  static Value ref(ValType type, Ref r) {
    Value x(type);
    x.ref_ = std::move(r);
    return x;
  }
  // The default value of a type: zero, or a null reference.
  static Value zero(ValType type);

  ValType type() const { return type_; }
  uint32_t i32() const { return static_cast<uint32_t>(bits_.u64); }
  uint64_t i64() const { return bits_.u64; }
  uint32_t f32_bits() const { return static_cast<uint32_t>(bits_.u64); }
  uint64_t f64_bits() const { return bits_.u64; }
  float f32() const;
  double f64() const;
  const V128& v128() const { return bits_.v128; }
  const Ref& ref() const { return ref_; }

  std::string to_string() const;  // "i32:42", "f64:0x7ff8000000000000", "externref:null"

 private:
  explicit Value(ValType t) : type_(t) {}
  static Value scalar(ValType t, uint64_t bits) {
    Value x(t);
    x.bits_.u64 = bits;
    return x;
  }
  ValType type_;
  union {
    uint64_t u64;
    V128 v128;
  } bits_{};
  Ref ref_;
};

// ---------------------------------------------------------------- errors

enum class TrapKind : uint8_t {
  Unreachable,
  MemoryOutOfBounds,
  TableOutOfBounds,
  IndirectCallNull,      // call_indirect on a null/uninitialised element
  IndirectCallMismatch,  // call_indirect signature mismatch
  IntegerOverflow,
  IntegerDivideByZero,
  InvalidConversion,
  StackExhausted,  // the call-depth limit or the native stack
  Deadline,        // the instance's deadline passed (interrupted)
  HostError,       // a host function reported failure
  Exit,            // WASI proc_exit: `exit_code` holds the code
  Other,
};
std::string_view to_string(TrapKind kind);

struct Trap {
  TrapKind kind = TrapKind::Other;
  std::string message;
  int exit_code = 0;  // for TrapKind::Exit
};

// The result of calling a function: values, a trap, or an error that is not
// a trap (wrong argument count or types).
class CallResult {
 public:
  CallResult(std::vector<Value> values) : v_(std::move(values)) {}  // NOLINT
  CallResult(Trap trap) : v_(std::move(trap)) {}                    // NOLINT
  CallResult(Error error) : v_(std::move(error)) {}                 // NOLINT

  bool ok() const { return v_.index() == 0; }
  bool trapped() const { return v_.index() == 1; }
  const std::vector<Value>& values() const { return std::get<0>(v_); }
  std::vector<Value>& values() { return std::get<0>(v_); }
  const Trap& trap() const { return std::get<1>(v_); }
  const Error& error() const { return std::get<2>(v_); }
  // One line for logs: the trap or error message.
  std::string describe() const;

 private:
  std::variant<std::vector<Value>, Trap, Error> v_;
};

// ---------------------------------------------------------------- externals

// A linear memory. Host code reads and writes it only through bounds-checked
// views; a span returned by view() is valid until the memory grows or the
// calling host function returns, whichever comes first.
class Memory {
 public:
  virtual ~Memory() = default;
  virtual MemoryType type() const = 0;  // current size in limits.min
  virtual uint64_t size_bytes() const = 0;
  // nullopt when [offset, offset+len) is not inside the memory.
  virtual std::optional<std::span<uint8_t>> view(uint64_t offset, uint64_t len) = 0;
  // Returns the old size in pages, or nullopt if growth is refused (max or
  // the instance's memory limit).
  virtual std::optional<uint64_t> grow(uint64_t delta_pages) = 0;
  // The same for every object that stands for one memory (there may be
  // several, one per export or alias taken of it).
  virtual const void* identity() const { return this; }

  Result<void> read(uint64_t offset, std::span<uint8_t> out);
  Result<void> write(uint64_t offset, std::span<const uint8_t> in);
};

class Table {
 public:
  virtual ~Table() = default;
  virtual TableType type() const = 0;
  virtual uint64_t size() const = 0;
  virtual Result<Ref> get(uint64_t index) const = 0;
  virtual Result<void> set(uint64_t index, const Ref& value) = 0;
  virtual std::optional<uint64_t> grow(uint64_t delta, const Ref& init) = 0;
};

class Global {
 public:
  virtual ~Global() = default;
  virtual GlobalType type() const = 0;
  virtual Value get() const = 0;
  virtual Result<void> set(const Value& value) = 0;  // error if immutable or wrong type
};

// An exception tag. Tags are generative: every instance that defines one
// makes a new tag, and a `catch` matches only throws of the very same tag
// object, whichever instance imported or re-exported it.
class Tag {
 public:
  virtual ~Tag() = default;
  virtual const TagType& type() const = 0;
};

class Instance;

// What a host function sees of its caller. Valid only during the call.
class Caller {
 public:
  virtual ~Caller() = default;
  // The calling instance's exported memory by name (components export
  // "memory"); nullptr if there is none. Returned pointer valid during the call.
  virtual Memory* memory(std::string_view export_name = "memory") = 0;
  // The calling instance itself, if the backend knows it (may be nullptr for
  // functions called directly from the host).
  virtual Instance* instance() = 0;
};

// A host function. It reads args, writes results (already sized to the
// function type's result count), and reports failure by returning a Trap; it
// never throws across the engine.
using HostCallback =
    std::function<std::optional<Trap>(Caller& caller, std::span<const Value> args, std::span<Value> results)>;

class Func {
 public:
  virtual ~Func() = default;
  virtual const FuncType& type() const = 0;
  // Calls the function on the current thread. Arguments are checked against
  // the type (a mismatch is an Error, not a trap).
  virtual CallResult call(std::span<const Value> args) = 0;
};

using Extern = std::variant<std::shared_ptr<Func>, std::shared_ptr<Table>, std::shared_ptr<Memory>,
                            std::shared_ptr<Global>, std::shared_ptr<Tag>>;
ExternKind kind_of(const Extern& ext);

// ---------------------------------------------------------------- modules and instances

struct InstanceLimits {
  // Linear memory cap over all memories the instance defines, in bytes.
  // memory.grow beyond it returns -1; a module whose initial memory exceeds
  // it fails to instantiate.
  std::optional<uint64_t> max_memory_bytes;
  // Maximum wasm call depth; exceeding it traps with StackExhausted.
  uint32_t max_call_depth = 10000;
  // Wall-clock budget for each call into the instance from the host. A call
  // still running when it passes traps with Deadline.
  std::optional<std::chrono::nanoseconds> call_timeout;
};

// One import supplied to instantiate(), matched by (module, name).
struct ImportValue {
  std::string module;
  std::string name;
  Extern value;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual const std::vector<ImportDesc>& imports() const = 0;
  virtual const std::vector<ExportDesc>& exports() const = 0;
  // SHA-256 of the original module bytes.
  virtual const std::string& hash() const = 0;
};

class Instance {
 public:
  virtual ~Instance() = default;
  // Looks an export up by name; nullopt if absent.
  virtual std::optional<Extern> get_export(std::string_view name) = 0;
  virtual const Module& module() const = 0;

  // Convenience: exported function / memory, nullptr if absent or of another kind.
  std::shared_ptr<Func> func(std::string_view name);
  std::shared_ptr<Memory> memory(std::string_view name = "memory");
  // Calls an exported function by name. Error if absent.
  CallResult call(std::string_view name, std::span<const Value> args);

  // Stops the instance's current and future calls: they trap with Deadline
  // at the next check (loop header or function entry). Thread-safe.
  virtual void interrupt() = 0;

  // Puts the instance back as instantiation left it, in place: what it
  // defines (memories, tables, globals) made again from the module, its
  // data and element segments applied again, its start function run again,
  // with the same imports; its exports stay the same objects. Only for an
  // instance that is not running and was not interrupted. A backend that
  // cannot do it says so with an Error (the caller instantiates anew); a
  // trap in the segments or the start function comes back as the Trap, and
  // the instance is then of no further use.
  virtual std::variant<std::monostate, Trap, Error> reinitialize();
};

struct CompileOptions {
  // Human-readable name for errors and progress lines (often a file name).
  std::string name;
  // Accept several memories (the multi-memory proposal), as core modules
  // inside components may have; plain modules follow Wasm 2.0 and may not.
  bool multi_memory = false;
  // Accept exception handling (tags, throw, try_table with catch and
  // catch_all), as core modules inside components may use.
  bool exceptions = false;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;  // "aot", "interp" or "tiered"

  // Decodes and validates `bytes`. Errors name the byte offset and the reason.
  virtual Result<std::shared_ptr<Module>> compile(std::span<const uint8_t> bytes,
                                                  const CompileOptions& options = {}) = 0;
  // Compiles many modules at once (the AOT backend builds them into one shared
  // object). Results are in the order given; each may fail on its own.
  virtual std::vector<Result<std::shared_ptr<Module>>> compile_many(std::span<const std::span<const uint8_t>> modules,
                                                                    const CompileOptions& options = {});
  // True when compiling bytes (with the same options) that an earlier
  // compile made into a module still alive returns that module: compiling
  // ahead of need (WorkloadHost's start) is then not work done twice.
  virtual bool remembers_modules() const { return false; }

  // Instantiates: links imports (all must be supplied with matching types),
  // initialises globals, tables and memory, runs the start function. A trap in
  // the start function or in segment initialisation is returned as a Trap.
  virtual std::variant<std::shared_ptr<Instance>, Trap, Error> instantiate(const std::shared_ptr<Module>& module,
                                                                           std::span<const ImportValue> imports,
                                                                           const InstanceLimits& limits = {}) = 0;

  // Engines with tiers (the `tiered` engine: the interpreter at once, aot
  // once its background compile is done): the engine a new instance of
  // `module` (which this engine compiled) is to be made on now, with the
  // host functions it imports. Every core instance of one component
  // instance must come from the same tier (their externals cannot cross
  // engines), so the component layer asks once per component instance.
  // Other engines: themselves.
  virtual Engine& tier_for(const Module& module) {
    (void)module;
    return *this;
  }
  // `module` (compiled by this engine) as `tier` (from tier_for) instantiates
  // it; an Error when it has no form on that tier. Other engines: `module`.
  virtual Result<std::shared_ptr<Module>> on_tier(const std::shared_ptr<Module>& module, const Engine& tier) {
    (void)tier;
    return module;
  }

  // Host-created externals, usable as imports of any instance of this engine.
  virtual std::shared_ptr<Func> host_func(FuncType type, HostCallback callback) = 0;
  virtual Result<std::shared_ptr<Memory>> host_memory(MemoryType type) = 0;
  virtual Result<std::shared_ptr<Table>> host_table(TableType type) = 0;
  virtual Result<std::shared_ptr<Global>> host_global(GlobalType type, Value init) = 0;
};

struct EngineOptions {
  // aot: where compiled shared objects are cached. Empty: $XDG_CACHE_HOME/stratus
  // (or ~/.cache/stratus).
  std::string cache_dir;
  // aot: C compiler and optimisation level used for generated code.
  std::string c_compiler;  // empty: $STRATUS_CC, else "cc"
  int opt_level = 2;
  // Print a progress line for compiles that take longer than this (and,
  // from then on, "aot: compiling X: 3/8 parts" every few seconds).
  std::chrono::milliseconds progress_after{1000};
  // aot: C compiler processes at once (0: one per core). The C of a module
  // bigger than `split_bytes` is split into that many translation units.
  unsigned compile_jobs = 0;
  size_t split_bytes = size_t{256} << 10;
  // aot: when a split build fails, build the module whole (and say so on
  // stderr). Tests of the split turn it off.
  bool split_fallback = true;
  // tiered: where its lines go ("component X: serving on interp while aot
  // compiles (N functions)", "component X: now on aot (compiled in N s)");
  // unset: stderr, prefixed "stratus: ". Called from the compiling thread.
  std::function<void(const std::string&)> log;
};

// A core module's imports and exports, from validating it without
// compiling (validate_core_module in validate.h): what a component decoder
// needs of the core modules it embeds.
struct ModuleTypeInfo {
  std::vector<ImportDesc> imports;
  std::vector<ExportDesc> exports;
};

// "aot", "interp" or "tiered" (tiered/tiered_engine.h). Error for an unknown name.
Result<std::unique_ptr<Engine>> make_engine(std::string_view name, const EngineOptions& options = {});

}  // namespace stratus::engine

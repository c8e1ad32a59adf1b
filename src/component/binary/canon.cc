// The canon section (Binary.md, "Canonical Definitions"): lift, lower, the
// resource built-ins, and the async, stream, future, error-context and thread
// built-ins, each checked against CanonicalABI.md's rules and added to the
// index space it defines into.
#include <algorithm>

#include "component/binary/scope.h"
#include "component/canon/abi.h"

namespace stratus::component::binary {
namespace {

// The canonical ABI signature of a built-in (Explainer.md), for 32-bit
// memories and tables; none for the thread.spawn-* built-ins, which take
// reference types.
std::optional<engine::FuncType> builtin_core_type(const CanonBuiltin& b) {
  using V = engine::ValType;
  const V i32 = V::I32;
  static const std::map<std::string, engine::FuncType> fixed = {
      {"backpressure.inc", {{}, {}}},
      {"backpressure.dec", {{}, {}}},
      {"task.cancel", {{}, {}}},
      {"context.get", {{}, {i32}}},
      {"context.set", {{i32}, {}}},
      {"subtask.cancel", {{i32}, {i32}}},
      {"subtask.drop", {{i32}, {}}},
      {"stream.new", {{}, {V::I64}}},
      {"future.new", {{}, {V::I64}}},
      {"stream.read", {{i32, i32, i32}, {i32}}},
      {"stream.write", {{i32, i32, i32}, {i32}}},
      {"future.read", {{i32, i32}, {i32}}},
      {"future.write", {{i32, i32}, {i32}}},
      {"stream.cancel-read", {{i32}, {i32}}},
      {"stream.cancel-write", {{i32}, {i32}}},
      {"future.cancel-read", {{i32}, {i32}}},
      {"future.cancel-write", {{i32}, {i32}}},
      {"stream.drop-readable", {{i32}, {}}},
      {"stream.drop-writable", {{i32}, {}}},
      {"future.drop-readable", {{i32}, {}}},
      {"future.drop-writable", {{i32}, {}}},
      {"error-context.new", {{i32, i32}, {i32}}},
      {"error-context.debug-message", {{i32, i32}, {}}},
      {"error-context.drop", {{i32}, {}}},
      {"waitable-set.new", {{}, {i32}}},
      {"waitable-set.wait", {{i32, i32}, {i32}}},
      {"waitable-set.poll", {{i32, i32}, {i32}}},
      {"waitable-set.drop", {{i32}, {}}},
      {"waitable.join", {{i32, i32}, {}}},
      {"thread.index", {{}, {i32}}},
      {"thread.new-indirect", {{i32, i32}, {i32}}},
      {"thread.resume-later", {{i32}, {}}},
      {"thread.suspend", {{}, {i32}}},
      {"thread.yield", {{}, {i32}}},
      {"thread.suspend-then-resume", {{i32}, {i32}}},
      {"thread.yield-then-resume", {{i32}, {i32}}},
      {"thread.suspend-then-promote", {{i32}, {i32}}},
      {"thread.yield-then-promote", {{i32}, {i32}}},
      {"thread.available-parallelism", {{}, {i32}}},
  };
  if (b.name == "task.return") {
    // The result's flattening, or a pointer to it past kMaxFlatParams.
    engine::FuncType t;
    if (b.type) t.params = canon::flatten(*b.type);
    if (t.params.size() > canon::kMaxFlatParams) t.params = {i32};
    return t;
  }
  auto it = fixed.find(b.name);
  if (it == fixed.end()) return std::nullopt;
  return it->second;
}

class CanonReader {
 public:
  CanonReader(Scope& s, Component& out) : s_(s), out_(out) {}

  Result<CanonOptions> canon_options(Reader& r) {
    CanonOptions o;
    auto n = r.count(1);
    if (!n.ok()) return std::move(n).error();
    bool encoding_set = false;
    for (uint32_t i = 0; i < *n; ++i) {
      auto b = r.u8();
      if (!b.ok()) return std::move(b).error();
      auto index = [&](std::optional<uint32_t>& slot, size_t limit, const char* what) -> Result<void> {
        if (slot) return r.error(std::string("canonical option `") + what + "` is repeated");
        auto idx = r.u32();
        if (!idx.ok()) return std::move(idx).error();
        if (*idx >= limit) return r.error(std::string(what) + " index " + std::to_string(*idx) + " out of range");
        slot = *idx;
        return {};
      };
      switch (*b) {
        case 0x00:
        case 0x01:
        case 0x02:
          if (encoding_set) return r.error("canonical option `string-encoding` is repeated or conflicts");
          encoding_set = true;
          o.encoding = *b == 0 ? StringEncoding::Utf8 : *b == 1 ? StringEncoding::Utf16 : StringEncoding::Latin1Utf16;
          break;
        case 0x03: STRATUS_TRY(index(o.memory, s_.core_memories.size(), "memory")); break;
        case 0x04: STRATUS_TRY(index(o.realloc, s_.core_funcs.size(), "realloc")); break;
        case 0x05: STRATUS_TRY(index(o.post_return, s_.core_funcs.size(), "post-return")); break;
        case 0x06:
          if (o.async) return r.error("canonical option `async` is repeated");
          o.async = true;
          break;
        case 0x07: STRATUS_TRY(index(o.callback, s_.core_funcs.size(), "callback")); break;
        default: return r.error("invalid canonical option");
      }
    }
    if (o.callback) {
      if (!o.async) return r.error("canonical option `callback` requires `async`");
      const auto& f = s_.core_funcs[*o.callback];
      engine::FuncType want{{engine::ValType::I32, engine::ValType::I32, engine::ValType::I32}, {engine::ValType::I32}};
      if (!(f == want)) return r.error("canonical option `callback` must have type [i32 i32 i32] -> [i32]");
    }
    if (o.async && o.post_return) return r.error("canonical options `async` and `post-return` cannot be combined");
    if (o.realloc) {
      const auto& f = s_.core_funcs[*o.realloc];
      engine::FuncType want{{engine::ValType::I32, engine::ValType::I32, engine::ValType::I32, engine::ValType::I32},
                            {engine::ValType::I32}};
      if (!(f == want)) return r.error("canonical option `realloc` must have type [i32 i32 i32 i32] -> [i32]");
    }
    return o;
  }

  static bool needs_memory(const ValType& t) {
    if (t.is_primitive()) return t.primitive() == PrimType::String;
    return std::visit(
        [](const auto& k) -> bool {
          using K = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<K, ListType>) {
            return !k.length || needs_memory(k.element);
          } else if constexpr (std::is_same_v<K, RecordType>) {
            return std::any_of(k.fields.begin(), k.fields.end(), [](const Field& f) { return needs_memory(f.type); });
          } else if constexpr (std::is_same_v<K, VariantType>) {
            return std::any_of(k.cases.begin(), k.cases.end(),
                               [](const Case& c) { return c.type && needs_memory(*c.type); });
          } else if constexpr (std::is_same_v<K, TupleType>) {
            return std::any_of(k.elements.begin(), k.elements.end(), [](const ValType& e) { return needs_memory(e); });
          } else if constexpr (std::is_same_v<K, OptionType>) {
            return needs_memory(k.element);
          } else if constexpr (std::is_same_v<K, ResultType>) {
            return (k.ok && needs_memory(*k.ok)) || (k.err && needs_memory(*k.err));
          } else if constexpr (std::is_same_v<K, MapType>) {
            return true;
          } else {
            return false;
          }
        },
        t.defined().kind);
  }

  Result<void> check_canon_memory(const Reader& r, const FuncType& ft, const CanonOptions& o, bool lift) {
    bool params_need =
        std::any_of(ft.params.begin(), ft.params.end(), [](const Field& f) { return needs_memory(f.type); });
    bool result_needs = ft.result && needs_memory(*ft.result);
    auto sig = canon::flatten_func(ft, lift ? canon::Direction::Lift : canon::Direction::Lower);
    bool memory = params_need || result_needs || sig.params_indirect || sig.results_indirect;
    if (memory && !o.memory) return r.error("canonical option `memory` is required");
    // The side that receives values into its memory allocates with realloc.
    bool realloc = lift ? (params_need || sig.params_indirect) : result_needs;
    if (realloc && !o.realloc) return r.error("canonical option `realloc` is required");
    return {};
  }

  Result<void> read(Reader& r) {
    auto op = r.u8();
    if (!op.ok()) return std::move(op).error();
    switch (*op) {
      case 0x00: {
        auto zero = r.u8();
        if (!zero.ok() || *zero != 0x00) return r.error("invalid canon lift");
        auto f = r.u32();
        if (!f.ok()) return std::move(f).error();
        if (*f >= s_.core_funcs.size()) return r.error("core func index " + std::to_string(*f) + " out of range");
        auto opts = canon_options(r);
        if (!opts.ok()) return std::move(opts).error();
        auto t = r.u32();
        if (!t.ok()) return std::move(t).error();
        if (*t >= s_.types.size()) return r.error("type index " + std::to_string(*t) + " out of range");
        const auto* ft = std::get_if<FuncTypePtr>(&s_.types[*t]);
        if (ft == nullptr) return r.error("canon lift: type index " + std::to_string(*t) + " is not a function type");
        if (opts->async && !(*ft)->async)
          return r.error("the `async` canonical option requires an async function type");
        if (opts->async) {
          // flatten_functype's async lifting: the result goes through
          // task.return; the core function returns the callback code, or
          // nothing when stackful.
          auto sig = canon::flatten_func(**ft, canon::Direction::Lift);
          std::vector<engine::ValType> results;
          if (opts->callback) results = {engine::ValType::I32};
          const auto& core = s_.core_funcs[*f];
          if (core.params != sig.params || core.results != results)
            return r.error("canon lift async: the core function's type does not match the lowered signature");
          // Only the parameters: task.return lifts the result, with its own options.
          FuncType params_only{(*ft)->params, std::nullopt, true};
          STRATUS_TRY(check_canon_memory(r, params_only, *opts, true));
        } else {
          auto sig = canon::flatten_func(**ft, canon::Direction::Lift);
          const auto& core = s_.core_funcs[*f];
          if (core.params != sig.params || core.results != sig.results)
            return r.error("canon lift: the core function's type does not match the lowered signature");
          STRATUS_TRY(check_canon_memory(r, **ft, *opts, true));
          if (opts->post_return) {
            engine::FuncType want{sig.results, {}};
            if (!(s_.core_funcs[*opts->post_return] == want))
              return r.error("canon lift: post-return has the wrong type");
          }
        }
        s_.funcs.push_back(*ft);
        out_.definitions.push_back(CanonDef{CanonLift{*f, *opts, *ft}});
        return {};
      }
      case 0x01: {
        auto zero = r.u8();
        if (!zero.ok() || *zero != 0x00) return r.error("invalid canon lower");
        auto f = r.u32();
        if (!f.ok()) return std::move(f).error();
        if (*f >= s_.funcs.size()) return r.error("func index " + std::to_string(*f) + " out of range");
        auto opts = canon_options(r);
        if (!opts.ok()) return std::move(opts).error();
        if (opts->post_return) return r.error("canon lower: `post-return` is not allowed");
        if (opts->callback) return r.error("canon lower: `callback` is not allowed");
        if (opts->async && !s_.funcs[*f]->async)
          return r.error("the `async` canonical option requires an async function type");
        const auto& ft = *s_.funcs[*f];
        auto sig = canon::flatten_func(ft, canon::Direction::Lower);
        if (!opts->async) {
          STRATUS_TRY(check_canon_memory(r, ft, *opts, false));
        } else {
          // flatten_functype's async lowering: at most 4 flat parameters,
          // the result through an out-pointer, an i32 status returned.
          std::vector<engine::ValType> params, results;
          for (const auto& p : ft.params) canon::flatten_into(p.type, params);
          if (ft.result) canon::flatten_into(*ft.result, results);
          if (params.size() > canon::kMaxFlatAsyncParams) params = {engine::ValType::I32};
          if (!results.empty()) params.push_back(engine::ValType::I32);
          sig.params = params;
          sig.results = {engine::ValType::I32};
        }
        s_.core_funcs.push_back(engine::FuncType{sig.params, sig.results});
        out_.definitions.push_back(CanonDef{CanonLower{*f, *opts}});
        return {};
      }
      case 0x02:
      case 0x03:
      case 0x04:
      case 0x07: {
        auto t = r.u32();
        if (!t.ok()) return std::move(t).error();
        if (*t >= s_.types.size()) return r.error("type index " + std::to_string(*t) + " out of range");
        const auto* res = std::get_if<ResourceTypePtr>(&s_.types[*t]);
        if (res == nullptr) return r.error("type index " + std::to_string(*t) + " is not a resource type");
        if (auto local = s_.export_alias.find(res->get()); local != s_.export_alias.end()) res = &local->second;
        if ((*op == 0x02 || *op == 0x04) && !(*res)->defined)
          return r.error("resource.new and resource.rep need a local resource type: type index " + std::to_string(*t) +
                         " is not a local resource");
        engine::FuncType core{{engine::ValType::I32}, {}};
        if (*op == 0x02) {
          s_.core_funcs.push_back({{engine::ValType::I32}, {engine::ValType::I32}});
          out_.definitions.push_back(CanonDef{CanonResourceNew{*res}});
        } else if (*op == 0x04) {
          s_.core_funcs.push_back({{engine::ValType::I32}, {engine::ValType::I32}});
          out_.definitions.push_back(CanonDef{CanonResourceRep{*res}});
        } else {
          s_.core_funcs.push_back(core);
          out_.definitions.push_back(CanonDef{CanonResourceDrop{*res, *op == 0x07}});
        }
        return {};
      }
      default: return builtin(r, *op);
    }
  }

  // The async, stream, future, error-context and thread built-ins: decoded
  // (immediates read and checked) and kept by name.
  Result<void> builtin(Reader& r, uint8_t op) {
    CanonBuiltin b;
    b.opcode = op;
    auto type_idx = [&]() -> Result<void> {
      auto t = r.u32();
      if (!t.ok()) return std::move(t).error();
      if (*t >= s_.types.size()) return r.error("type index " + std::to_string(*t) + " out of range");
      if (const auto* v = std::get_if<ValType>(&s_.types[*t])) b.type = *v;
      return {};
    };
    auto flag = [&]() -> Result<void> {
      auto f = r.u8();
      if (!f.ok()) return std::move(f).error();
      if (*f > 1) return r.error("invalid flag");
      b.flag = *f == 1;
      return {};
    };
    auto opts = [&]() -> Result<void> {
      auto o = canon_options(r);
      if (!o.ok()) return std::move(o).error();
      b.options = *o;
      return {};
    };
    auto u32 = [&]() -> Result<void> {
      auto v = r.u32();
      if (!v.ok()) return std::move(v).error();
      return {};
    };
    switch (op) {
      case 0x24: b.name = "backpressure.inc"; break;
      case 0x25: b.name = "backpressure.dec"; break;
      case 0x09: {
        b.name = "task.return";
        auto kind = r.u8();
        if (!kind.ok()) return std::move(kind).error();
        if (*kind == 0x00) {
          auto t = read_valtype(r, s_);
          if (!t.ok()) return std::move(t).error();
          b.type = *t;
        } else if (*kind == 0x01) {
          auto z = r.u8();
          if (!z.ok() || *z != 0) return r.error("invalid result list");
        } else {
          return r.error("invalid result list");
        }
        STRATUS_TRY(opts());
        break;
      }
      case 0x05: b.name = "task.cancel"; break;
      case 0x0a:
      case 0x0b: {
        b.name = op == 0x0a ? "context.get" : "context.set";
        auto t = r.u8();
        if (!t.ok()) return std::move(t).error();
        if (*t != 0x7f) return r.error("context slots are i32");
        auto slot = r.u32();
        if (!slot.ok()) return std::move(slot).error();
        if (*slot >= 2) return r.error("context slot " + std::to_string(*slot) + " out of range (there are 2)");
        b.slot = *slot;
        break;
      }
      case 0x06:
        b.name = "subtask.cancel";
        STRATUS_TRY(flag());
        break;
      case 0x0d: b.name = "subtask.drop"; break;
      case 0x0e:
        b.name = "stream.new";
        STRATUS_TRY(type_idx());
        break;
      case 0x0f:
        b.name = "stream.read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x10:
        b.name = "stream.write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x11:
        b.name = "stream.cancel-read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x12:
        b.name = "stream.cancel-write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x13:
        b.name = "stream.drop-readable";
        STRATUS_TRY(type_idx());
        break;
      case 0x14:
        b.name = "stream.drop-writable";
        STRATUS_TRY(type_idx());
        break;
      case 0x15:
        b.name = "future.new";
        STRATUS_TRY(type_idx());
        break;
      case 0x16:
        b.name = "future.read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x17:
        b.name = "future.write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(opts());
        break;
      case 0x18:
        b.name = "future.cancel-read";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x19:
        b.name = "future.cancel-write";
        STRATUS_TRY(type_idx());
        STRATUS_TRY(flag());
        break;
      case 0x1a:
        b.name = "future.drop-readable";
        STRATUS_TRY(type_idx());
        break;
      case 0x1b:
        b.name = "future.drop-writable";
        STRATUS_TRY(type_idx());
        break;
      case 0x1c:
        b.name = "error-context.new";
        STRATUS_TRY(opts());
        break;
      case 0x1d:
        b.name = "error-context.debug-message";
        STRATUS_TRY(opts());
        break;
      case 0x1e: b.name = "error-context.drop"; break;
      case 0x1f: b.name = "waitable-set.new"; break;
      case 0x20:
      case 0x21:
        b.name = op == 0x20 ? "waitable-set.wait" : "waitable-set.poll";
        STRATUS_TRY(flag());
        {
          auto mem = r.u32();
          if (!mem.ok()) return std::move(mem).error();
          b.options.memory = *mem;
        }
        break;
      case 0x22: b.name = "waitable-set.drop"; break;
      case 0x23: b.name = "waitable.join"; break;
      case 0x26: b.name = "thread.index"; break;
      case 0x27:
        b.name = "thread.new-indirect";
        STRATUS_TRY(u32());
        {
          auto table = r.u32();
          if (!table.ok()) return std::move(table).error();
          b.table = *table;
        }
        break;
      case 0x28: b.name = "thread.resume-later"; break;
      case 0x29:
        b.name = "thread.suspend";
        STRATUS_TRY(flag());
        break;
      case 0x0c:
        b.name = "thread.yield";
        STRATUS_TRY(flag());
        break;
      case 0x2a:
        b.name = "thread.suspend-then-resume";
        STRATUS_TRY(flag());
        break;
      case 0x2b:
        b.name = "thread.yield-then-resume";
        STRATUS_TRY(flag());
        break;
      case 0x2c:
        b.name = "thread.suspend-then-promote";
        STRATUS_TRY(flag());
        break;
      case 0x2d:
        b.name = "thread.yield-then-promote";
        STRATUS_TRY(flag());
        break;
      default: return r.error("unknown canon opcode " + std::to_string(op));
    }
    b.core_type = builtin_core_type(b);
    if (b.core_type) {
      s_.core_funcs.push_back(*b.core_type);
    } else {
      s_.untyped_core_funcs.insert(s_.core_funcs.size());
      s_.core_funcs.push_back(engine::FuncType{});
    }
    out_.definitions.push_back(CanonDef{b});
    return {};
  }

 private:
  Scope& s_;
  Component& out_;
};

}  // namespace

Result<void> read_canon(Reader& r, Scope& s, Component& out) { return CanonReader(s, out).read(r); }

}  // namespace stratus::component::binary

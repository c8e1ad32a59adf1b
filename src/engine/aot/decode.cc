#include "engine/aot/decode.h"
#include "engine/aot/runtime/wasm-rt.h"

#include "engine/eh_lower.h"
#include "engine/prescan.h"
#include "engine/wabt_types.h"

#include <cstdio>

#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/cast.h"
#include "wabt/error.h"
#include "wabt/feature.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/ir.h"
#include "wabt/validator.h"

namespace stratus::engine::aot {
namespace {

Result<FuncType> func_type(const wabt::FuncDeclaration& decl) {
  FuncType out;
  for (auto t : decl.sig.param_types) {
    auto v = val_type_from_wabt(t);
    if (!v) return make_error(std::string("unsupported parameter type ") + t.GetName());
    out.params.push_back(*v);
  }
  for (auto t : decl.sig.result_types) {
    auto v = val_type_from_wabt(t);
    if (!v) return make_error(std::string("unsupported result type ") + t.GetName());
    out.results.push_back(*v);
  }
  return out;
}

Limits limits(const wabt::Limits& l) {
  Limits out;
  out.min = l.initial;
  if (l.has_max) out.max = l.max;
  return out;
}

std::string format_errors(const wabt::Errors& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (e.error_level != wabt::ErrorLevel::Error) continue;
    if (!out.empty()) out += "; ";
    char buf[48];
    std::snprintf(buf, sizeof buf, "offset 0x%zx: ", e.loc.offset);
    out += buf + e.message;
  }
  return out.empty() ? "invalid module" : out;
}

// wasm2c 1.0.32 aborts the process on v128; find any use first.
bool is_simd_type(wabt::Type t) { return t == wabt::Type::V128; }

bool sig_has_simd(const wabt::FuncSignature& sig) {
  for (auto t : sig.param_types)
    if (is_simd_type(t)) return true;
  for (auto t : sig.result_types)
    if (is_simd_type(t)) return true;
  return false;
}

bool exprs_have_simd(const wabt::ExprList& exprs) {
  using namespace wabt;
  for (const Expr& e : exprs) {
    switch (e.type()) {
      case ExprType::SimdLaneOp:
      case ExprType::SimdLoadLane:
      case ExprType::SimdStoreLane:
      case ExprType::SimdShuffleOp:
      case ExprType::LoadSplat:
      case ExprType::LoadZero: return true;
      case ExprType::Const:
        if (cast<ConstExpr>(&e)->const_.type() == Type::V128) return true;
        break;
      case ExprType::Binary:
        if (cast<BinaryExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Compare:
        if (cast<CompareExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Convert:
        if (cast<ConvertExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Unary:
        if (cast<UnaryExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Ternary:
        if (cast<TernaryExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Load:
        if (cast<LoadExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Store:
        if (cast<StoreExpr>(&e)->opcode.GetPrefix() == 0xfd) return true;
        break;
      case ExprType::Select:
        for (auto t : cast<SelectExpr>(&e)->result_type)
          if (is_simd_type(t)) return true;
        break;
      case ExprType::Block:
        if (sig_has_simd(cast<BlockExpr>(&e)->block.decl.sig) || exprs_have_simd(cast<BlockExpr>(&e)->block.exprs))
          return true;
        break;
      case ExprType::Loop:
        if (sig_has_simd(cast<LoopExpr>(&e)->block.decl.sig) || exprs_have_simd(cast<LoopExpr>(&e)->block.exprs))
          return true;
        break;
      case ExprType::If: {
        auto* i = cast<IfExpr>(&e);
        if (sig_has_simd(i->true_.decl.sig) || exprs_have_simd(i->true_.exprs) || exprs_have_simd(i->false_))
          return true;
        break;
      }
      case ExprType::Try: {
        auto* t = cast<TryExpr>(&e);
        if (sig_has_simd(t->block.decl.sig) || exprs_have_simd(t->block.exprs)) return true;
        for (const auto& c : t->catches)
          if (exprs_have_simd(c.exprs)) return true;
        break;
      }
      default: break;
    }
  }
  return false;
}

bool module_has_simd(const wabt::Module& m) {
  for (const auto* t : m.types)
    if (auto* ft = wabt::dyn_cast<wabt::FuncType>(t); ft && sig_has_simd(ft->sig)) return true;
  for (const auto* g : m.globals)
    if (is_simd_type(g->type)) return true;
  for (const auto* t : m.tags)
    if (sig_has_simd(t->decl.sig)) return true;
  for (const auto* f : m.funcs) {
    if (sig_has_simd(f->decl.sig)) return true;
    for (auto t : f->local_types)
      if (is_simd_type(t)) return true;
    if (exprs_have_simd(f->exprs)) return true;
  }
  return false;
}

// wabt 1.0.32's IR reader asserts (aborting the process) on some invalid
// bytes, a loop inside a constant expression for one, because it relies on
// validation that ValidateModule only does afterwards. The interpreter's
// reader validates every instruction as it reads, so it goes first.
bool validates_before_ir(std::span<const uint8_t> bytes, const wabt::ReadBinaryOptions& options, wabt::Errors* errors) {
  if (auto framing = prescan_module(bytes); !framing.ok()) {
    errors->emplace_back(wabt::ErrorLevel::Error, wabt::Location(0), framing.error().message);
    return false;
  }
  wabt::interp::ModuleDesc unused;
  return wabt::Succeeded(
      wabt::interp::ReadBinaryInterp("module", bytes.data(), bytes.size(), options, errors, &unused));
}

// Probing other feature sets uses only the interpreter's reader: wabt's IR
// validator asserts on some proposals' instructions (call_ref, found by
// fuzz.module_decode).
bool decodes_with(std::span<const uint8_t> bytes, const wabt::Features& features) {
  wabt::ReadBinaryOptions options(features, nullptr, false, true, true);
  wabt::Errors errors;
  return validates_before_ir(bytes, options, &errors);
}

// For a module the default feature set rejects: the name of a proposal that
// would make it valid (one wasm2c 1.0.32 cannot compile), if there is one.
std::optional<std::string> unsupported_proposal(std::span<const uint8_t> bytes) {
  struct Candidate {
    const char* name;
    void (wabt::Features::*enable)();
  };
  static const Candidate candidates[] = {
      {"exceptions", &wabt::Features::enable_exceptions}, {"threads", &wabt::Features::enable_threads},
      {"tail-call", &wabt::Features::enable_tail_call},   {"multi-memory", &wabt::Features::enable_multi_memory},
      {"memory64", &wabt::Features::enable_memory64},
  };
  for (const auto& c : candidates) {
    wabt::Features f;
    (f.*c.enable)();
    if (decodes_with(bytes, f)) return std::string(c.name);
  }
  return std::nullopt;
}

Error unsupported_or(std::span<const uint8_t> bytes, std::string message) {
  if (auto p = unsupported_proposal(bytes))
    return make_error("aot: proposal '" + *p + "' is not supported by wasm2c 1.0.32 (" + message + ")");
  return make_error(std::move(message));
}

Result<TagType> tag_type(const wabt::FuncDeclaration& decl) {
  auto f = func_type(decl);
  if (!f) return std::move(f).error();
  size_t bytes = 0;
  for (auto t : f->params) bytes += t == ValType::I64 || t == ValType::F64 ? 8 : t == ValType::FuncRef ? 24 : 4;
  if (bytes > STRATUS_RT_MAX_EXCEPTION_SIZE)
    return make_error("aot: a tag's parameters take more than " + std::to_string(STRATUS_RT_MAX_EXCEPTION_SIZE) +
                      " bytes");
  return TagType{std::move(f->params)};
}

}  // namespace

Result<DecodedModule> decode_module(std::span<const uint8_t> input, bool multi_memory, bool exceptions) {
  // wabt's default features (the Wasm 2.0 set, SIMD included so that SIMD
  // modules decode and get the clear "not supported" error below).
  wabt::Features features;
  if (multi_memory) features.enable_multi_memory();
  std::optional<std::vector<uint8_t>> lowered;
  if (exceptions) {
    features.enable_exceptions();
    auto rewritten = lower_try_table(input);
    if (!rewritten) return std::move(rewritten).error();
    lowered = std::move(*rewritten);
  }
  std::span<const uint8_t> bytes = lowered ? std::span<const uint8_t>(*lowered) : input;
  wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/false, /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/true);
  wabt::Errors errors;
  if (!validates_before_ir(bytes, options, &errors)) return unsupported_or(bytes, format_errors(errors));
  auto ir = std::make_shared<wabt::Module>();
  if (wabt::Failed(wabt::ReadBinaryIr("module", bytes.data(), bytes.size(), options, &errors, ir.get())))
    return unsupported_or(bytes, format_errors(errors));
  wabt::ValidateOptions vopts(features);
  if (wabt::Failed(wabt::ValidateModule(ir.get(), &errors, vopts))) return unsupported_or(bytes, format_errors(errors));
  if (module_has_simd(*ir)) return make_error("aot: SIMD (proposal 'simd') is not supported by wasm2c 1.0.32");

  DecodedModule out;
  auto& info = out.info;
  for (const auto* imp : ir->imports) {
    ImportDesc d{imp->module_name, imp->field_name, FuncType{}};
    switch (imp->kind()) {
      case wabt::ExternalKind::Func: {
        auto t = func_type(wabt::cast<wabt::FuncImport>(imp)->func.decl);
        if (!t) return std::move(t).error();
        d.type = *t;
        break;
      }
      case wabt::ExternalKind::Table: {
        const auto& t = wabt::cast<wabt::TableImport>(imp)->table;
        d.type = TableType{t.elem_type == wabt::Type::ExternRef ? ValType::ExternRef : ValType::FuncRef,
                           limits(t.elem_limits)};
        break;
      }
      case wabt::ExternalKind::Memory: {
        const auto& m = wabt::cast<wabt::MemoryImport>(imp)->memory;
        if (m.page_limits.is_64) return make_error("aot: memory64 is not supported");
        d.type = MemoryType{limits(m.page_limits)};
        break;
      }
      case wabt::ExternalKind::Global: {
        const auto& g = wabt::cast<wabt::GlobalImport>(imp)->global;
        auto v = val_type_from_wabt(g.type);
        if (!v) return make_error("unsupported global type");
        d.type = GlobalType{*v, g.mutable_};
        break;
      }
      case wabt::ExternalKind::Tag: {
        auto t = tag_type(wabt::cast<wabt::TagImport>(imp)->tag.decl);
        if (!t) return std::move(t).error();
        d.type = *t;
        break;
      }
      default: return make_error("aot: unsupported import kind");
    }
    info.imports.push_back(std::move(d));
  }
  for (size_t i = ir->num_memory_imports; i < ir->memories.size(); ++i)
    info.memories.push_back(MemoryType{limits(ir->memories[i]->page_limits)});
  for (size_t i = ir->num_table_imports; i < ir->tables.size(); ++i) {
    const auto* t = ir->tables[i];
    info.tables.push_back(TableType{t->elem_type == wabt::Type::ExternRef ? ValType::ExternRef : ValType::FuncRef,
                                    limits(t->elem_limits)});
  }
  for (size_t i = ir->num_tag_imports; i < ir->tags.size(); ++i) {
    auto t = tag_type(ir->tags[i]->decl);
    if (!t) return std::move(t).error();
    info.tags.push_back(std::move(*t));
  }
  info.num_functions = static_cast<uint32_t>(ir->funcs.size() - ir->num_func_imports);
  for (const auto* e : ir->exports) {
    ExportDesc d{e->name, FuncType{}};
    switch (e->kind) {
      case wabt::ExternalKind::Func: {
        auto t = func_type(ir->GetFunc(e->var)->decl);
        if (!t) return std::move(t).error();
        d.type = *t;
        break;
      }
      case wabt::ExternalKind::Table: {
        const auto* t = ir->GetTable(e->var);
        d.type = TableType{t->elem_type == wabt::Type::ExternRef ? ValType::ExternRef : ValType::FuncRef,
                           limits(t->elem_limits)};
        break;
      }
      case wabt::ExternalKind::Memory: d.type = MemoryType{limits(ir->GetMemory(e->var)->page_limits)}; break;
      case wabt::ExternalKind::Global: {
        const auto* g = ir->GetGlobal(e->var);
        d.type = GlobalType{*val_type_from_wabt(g->type), g->mutable_};
        break;
      }
      case wabt::ExternalKind::Tag: {
        auto t = tag_type(ir->GetTag(e->var)->decl);
        if (!t) return std::move(t).error();
        d.type = *t;
        break;
      }
      default: return make_error("aot: unsupported export kind");
    }
    info.exports.push_back(std::move(d));
    info.export_index.push_back(e->var.index());
  }
  out.ir = std::move(ir);
  return out;
}

}  // namespace stratus::engine::aot

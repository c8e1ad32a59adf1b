#include "engine/aot/codegen.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/aot/deadline_checks.h"
#include "engine/aot/runtime/registry.h"
#include "engine/aot/speed_patches.h"
#include "wabt/apply-names.h"
#include "wabt/c-writer.h"
#include "wabt/cast.h"
#include "wabt/generate-names.h"
#include "wabt/ir.h"
#include "wabt/stream.h"

namespace stratus::engine::aot {
namespace {

using wabt::Index;

// ------------------------------------------------------------- C text

const char* c_type(ValType t) {
  switch (t) {
    case ValType::I32: return "u32";
    case ValType::I64: return "u64";
    case ValType::F32: return "f32";
    case ValType::F64: return "f64";
    case ValType::FuncRef: return "wasm_rt_funcref_t";
    case ValType::ExternRef: return "wasm_rt_externref_t";
    case ValType::V128: break;
  }
  return "void";
}

const char* member(ValType t) {
  switch (t) {
    case ValType::I32: return "i32";
    case ValType::I64: return "i64";
    case ValType::F32: return "f32";
    case ValType::F64: return "f64";
    case ValType::FuncRef: return "funcref";
    case ValType::ExternRef: return "externref";
    case ValType::V128: break;
  }
  return "i64";
}

std::string result_codes(const FuncType& t) {
  std::string sig = signature_of(t);
  return sig.substr(sig.find(':') + 1);
}

std::string ret_type(const FuncType& t) {
  if (t.results.empty()) return "void";
  if (t.results.size() == 1) return c_type(t.results[0]);
  return "struct wasm_multi_" + result_codes(t);
}

// "(void*, u32, f64)" for a function pointer cast.
std::string param_list(const FuncType& t, const std::string& first) {
  std::string out = "(" + first;
  for (auto p : t.params) out += std::string(", ") + c_type(p);
  return out + ")";
}

std::string multi_struct(const FuncType& t) {
  std::string codes = result_codes(t);
  std::string name = "wasm_multi_" + codes;
  std::string out = "#ifndef " + name + "\n#define " + name + " " + name + "\nstruct " + name + " {\n";
  for (size_t i = 0; i < t.results.size(); ++i)
    out += std::string("  ") + c_type(t.results[i]) + " " + codes[i] + std::to_string(i) + ";\n";
  return out + "};\n#endif\n";
}

// Converts a call result `expr` of type `t` into results[].
std::string store_results(const FuncType& t, const std::string& expr) {
  if (t.results.empty()) return "  " + expr + ";\n";
  if (t.results.size() == 1) return std::string("  r[0].") + member(t.results[0]) + " = " + expr + ";\n";
  std::string codes = result_codes(t);
  std::string out = "  " + ret_type(t) + " t = " + expr + ";\n";
  for (size_t i = 0; i < t.results.size(); ++i)
    out += "  r[" + std::to_string(i) + "]." + member(t.results[i]) + " = t." + codes[i] + std::to_string(i) + ";\n";
  return out;
}

std::string call_args(const FuncType& t, const std::string& first) {
  std::string out = first;
  for (size_t i = 0; i < t.params.size(); ++i) out += ", a[" + std::to_string(i) + "]." + member(t.params[i]);
  return out;
}

std::string sig_code(const FuncType& t, size_t k) {
  std::string n = std::to_string(k);
  std::string fn_type = ret_type(t) + " (*)" + param_list(t, "void*");
  std::string out;
  // Invoker: the host calls any function of this signature through it.
  out += "static void inv_" + n +
         "(wasm_rt_function_ptr_t fn, void* ctx, const stratus_rt_value_t* a, stratus_rt_value_t* r) {\n";
  out += "  (void)a; (void)r;\n";
  out += store_results(t, "((" + fn_type + ")fn)(" + call_args(t, "ctx") + ")");
  out += "}\n";
  // Host trampoline: a C function of this signature that calls a host
  // function. The host reports failure by return value; the trap is raised
  // here, in C, so no C++ frame is ever unwound.
  out += "static " + ret_type(t) + " host_" + n + "(void* site";
  for (size_t i = 0; i < t.params.size(); ++i)
    out += std::string(", ") + c_type(t.params[i]) + " p" + std::to_string(i);
  out += ") {\n";
  out += "  stratus_rt_value_t a[" + std::to_string(t.params.size() + 1) + "], r[" +
         std::to_string(t.results.size() + 1) + "];\n";
  for (size_t i = 0; i < t.params.size(); ++i)
    out += "  a[" + std::to_string(i) + "]." + member(t.params[i]) + " = p" + std::to_string(i) + ";\n";
  out += "  uint32_t code = stratus_rt_call_host(site, a, r);\n";
  out += "  if (code) wasm_rt_trap((wasm_rt_trap_t)code);\n";
  if (t.results.size() == 1) {
    out += std::string("  return r[0].") + member(t.results[0]) + ";\n";
  } else if (t.results.size() > 1) {
    std::string codes = result_codes(t);
    out += "  " + ret_type(t) + " t;\n";
    for (size_t i = 0; i < t.results.size(); ++i)
      out += "  t." + std::string(1, codes[i]) + std::to_string(i) + " = r[" + std::to_string(i) + "]." +
             member(t.results[i]) + ";\n";
    out += "  return t;\n";
  }
  out += "}\n";
  return out;
}

std::string glue_source(const std::string& name, const ModuleInfo& info, const std::vector<FuncType>& sigs) {
  const std::string imod = "Z_" + name + "i";
  const std::string itype = "struct " + imod + "_instance_t";
  const std::string inst = "Z_" + name + "_instance_t";
  std::string out = "/* Generated by stratus: glue for " + name + " */\n#include \"" + name + ".h\"\n\n";
  out += itype + " {\n  " + itype + "* self;\n  void* owner;\n  stratus_rt_import_slot_t slot[];\n};\n\n";
  for (const auto& t : sigs)
    if (t.results.size() > 1) out += multi_struct(t);
  for (size_t k = 0; k < info.imports.size(); ++k) {
    const auto& imp = info.imports[k];
    std::string slot = "p->self->slot[" + std::to_string(k) + "]";
    std::string k_s = std::to_string(k);
    switch (kind_of(imp.type)) {
      case ExternKind::Func: {
        const auto& t = std::get<FuncType>(imp.type);
        out += ret_type(t) + " " + imod + "Z_f" + k_s + "(" + itype + "* p";
        for (size_t i = 0; i < t.params.size(); ++i)
          out += std::string(", ") + c_type(t.params[i]) + " p" + std::to_string(i);
        out +=
            ") {\n  return ((" + ret_type(t) + " (*)" + param_list(t, "void*") + ")" + slot + ".ptr)(" + slot + ".ctx";
        for (size_t i = 0; i < t.params.size(); ++i) out += ", p" + std::to_string(i);
        out += ");\n}\n";
        break;
      }
      case ExternKind::Memory:
        out += "wasm_rt_memory_t* " + imod + "Z_m" + k_s + "(" + itype + "* p) { return (wasm_rt_memory_t*)" + slot +
               ".ptr; }\n";
        break;
      case ExternKind::Table: {
        std::string tt = std::get<TableType>(imp.type).element == ValType::ExternRef ? "wasm_rt_externref_table_t"
                                                                                     : "wasm_rt_funcref_table_t";
        out += tt + "* " + imod + "Z_t" + k_s + "(" + itype + "* p) { return (" + tt + "*)" + slot + ".ptr; }\n";
        break;
      }
      case ExternKind::Global: {
        std::string gt = std::string(c_type(std::get<GlobalType>(imp.type).type)) + "*";
        out += gt + " " + imod + "Z_g" + k_s + "(" + itype + "* p) { return (" + gt + ")" + slot + ".ptr; }\n";
        break;
      }
      case ExternKind::Tag: break;  // below
    }
  }
  // Tag j of the tag index space (imports first) lives in the import slot of
  // its import, or in the slot after the imports for a defined tag.
  size_t tag = 0;
  for (size_t k = 0; k < info.imports.size(); ++k) {
    if (kind_of(info.imports[k].type) != ExternKind::Tag) continue;
    out += "u32* " + imod + "Z_tag" + std::to_string(tag++) + "(" + itype + "* p) { return (u32*)p->self->slot[" +
           std::to_string(k) + "].ptr; }\n";
  }
  for (size_t d = 0; d < info.tags.size(); ++d) {
    out += "u32* " + imod + "Z_tag" + std::to_string(tag++) + "(" + itype + "* p) { return (u32*)p->self->slot[" +
           std::to_string(info.imports.size() + d) + "].ptr; }\n";
  }
  out += "void " + imod + "Z_hook(" + itype + "* p) {\n  (void)p;\n  wasm_rt_trap(WASM_RT_TRAP_DEADLINE);\n}\n\n";
  for (size_t k = 0; k < sigs.size(); ++k) out += sig_code(sigs[k], k);
  out += "\nstatic const stratus_rt_sig_t sigs[] = {\n";
  for (size_t k = 0; k < sigs.size(); ++k)
    out += "  {\"" + signature_of(sigs[k]) + "\", inv_" + std::to_string(k) + ", (wasm_rt_function_ptr_t)host_" +
           std::to_string(k) + "},\n";
  out += "};\nstatic const wasm_rt_function_ptr_t exports[] = {\n";
  for (size_t k = 0; k < info.exports.size(); ++k) {
    if (kind_of(info.exports[k].type) == ExternKind::Tag) {
      out += "  0, /* a tag: found by AotInstance::get_export */\n";
      continue;
    }
    out += "  (wasm_rt_function_ptr_t)Z_" + name + "Z_e" + std::to_string(k) + ",\n";
  }
  out += "  0\n};\n";
  out += "static void instantiate(void* i, stratus_rt_imports_t* p) { Z_" + name + "_instantiate((" + inst + "*)i, (" +
         itype + "*)p); }\n";
  out += "static void free_instance(void* i) { Z_" + name + "_free((" + inst + "*)i); }\n";
  out += "static const stratus_rt_module_desc_t desc = {STRATUS_RT_ABI, sizeof(" + inst + "), Z_" + name +
         "_init_module, instantiate, free_instance, " + std::to_string(sigs.size()) + ", sigs, " +
         std::to_string(info.exports.size()) + ", exports};\n";
  out += "__attribute__((visibility(\"default\"))) const stratus_rt_module_desc_t* " + descriptor_symbol(name) +
         "(void) { return &desc; }\n";
  return out;
}

// Small, checked edits of wasm2c's output so traps it folds together can be
// told apart. If a pattern is missing (another wasm2c) the code still works,
// only with coarser trap kinds.
void patch_source(std::string& c) {
  auto replace_all = [](std::string& s, size_t from, size_t to, const std::string& a, const std::string& b) {
    for (size_t pos = s.find(a, from); pos != std::string::npos && pos < to; pos = s.find(a, pos + b.size())) {
      s.replace(pos, a.size(), b);
      to += b.size() - a.size();
    }
  };
  replace_all(c, 0, c.size(), "TRAP(CALL_INDIRECT)", "STRATUS_CALL_INDIRECT_TRAP(table, x)");
  // wasm2c keeps every load (it may trap) with an empty asm that uses the
  // value in a general register; for f32/f64 that costs a move out of the
  // SSE register on every load (nbody: 1.48x -> ~1.1x native). Letting the
  // asm take an SSE register keeps the load just as observable. Only the
  // float loads get that constraint: GCC rejects "x" for an 8-bit integer.
  const std::string load_macro = "#define DEFINE_LOAD(name, t1, t2, t3)";
  for (size_t at = c.find(load_macro); at != std::string::npos; at = c.find(load_macro, at + 1)) {
    size_t end = at;
    while (end != std::string::npos && end + 1 < c.size()) {
      size_t eol = c.find('\n', end);
      if (eol == std::string::npos || eol == 0 || c[eol - 1] != '\\') {
        end = eol;
        break;
      }
      end = eol + 1;
    }
    if (end == std::string::npos) break;
    std::string fp = c.substr(at, end - at);
    fp.replace(0, load_macro.size(), "#define DEFINE_LOAD_FP(name, t1, t2, t3)");
    replace_all(fp, 0, fp.size(), "wasm_asm(\"\" ::\"r\"(result));", "wasm_asm(\"\" ::\"rx\"(result));");
    c.insert(end + 1, fp + "\n");
    at = end + 1 + fp.size();
  }
  replace_all(c, 0, c.size(), "DEFINE_LOAD(f32_load, f32, f32, f32)", "DEFINE_LOAD_FP(f32_load, f32, f32, f32)");
  replace_all(c, 0, c.size(), "DEFINE_LOAD(f64_load, f64, f64, f64)", "DEFINE_LOAD_FP(f64_load, f64, f64, f64)");
  size_t tables = c.find("} wasm_elem_segment_expr_t;");
  size_t end = c.find("static bool s_module_initialized");
  if (tables != std::string::npos && end != std::string::npos && end > tables)
    replace_all(c, tables, end, "TRAP(OOB)", "TRAP(TABLE_OOB)");
}

bool add_type(std::vector<ValType>& out, wabt::Type t) {
  switch (t) {
    case wabt::Type::I32: out.push_back(ValType::I32); return true;
    case wabt::Type::I64: out.push_back(ValType::I64); return true;
    case wabt::Type::F32: out.push_back(ValType::F32); return true;
    case wabt::Type::F64: out.push_back(ValType::F64); return true;
    case wabt::Type::FuncRef: out.push_back(ValType::FuncRef); return true;
    case wabt::Type::ExternRef: out.push_back(ValType::ExternRef); return true;
    default: return false;
  }
}

// See prepend_check(). True if every check wasm2c emitted was rewritten.
// wasm2c drops unreachable code (after `unreachable`, `br`, `return`), and the
// checks in it, so fewer than `expected` may appear; none may stay unpatched.
bool patch_checks(std::string& c, const std::string& name, size_t expected) {
  auto replace = [&](const std::string& a, const std::string& b) {
    size_t n = 0;
    for (size_t pos = c.find(a); pos != std::string::npos; pos = c.find(a, pos + b.size())) {
      c.replace(pos, a.size(), b);
      ++n;
    }
    return n;
  };
  size_t reads = replace(" = instance->w2c_ix;", " = STRATUS_INTERRUPT_PENDING;");
  const std::string hook_call = "(*Z_" + name + "iZ_hook)(";
  size_t calls = replace(hook_call + "instance->Z_" + name + "i_instance);", "wasm_rt_trap(WASM_RT_TRAP_DEADLINE);");
  return reads == calls && reads <= expected && c.find(hook_call) == std::string::npos;
}

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The first occurrence of `ident` at or after `pos` as a whole identifier
// (x1 does not match inside x10), or npos.
size_t find_ident(const std::string& c, const std::string& ident, size_t pos) {
  for (pos = c.find(ident, pos); pos != std::string::npos; pos = c.find(ident, pos + 1)) {
    bool starts = pos == 0 || !is_ident_char(c[pos - 1]);
    bool ends = pos + ident.size() == c.size() || !is_ident_char(c[pos + ident.size()]);
    if (starts && ends) return pos;
  }
  return std::string::npos;
}

// Replaces every whole-identifier `ident` at or after `begin`, with the
// characters around it given in `before` and `after` (which must be there).
void replace_ident(std::string& c, size_t begin, const std::string& before, const std::string& ident,
                   const std::string& after, const std::string& to) {
  for (size_t pos = find_ident(c, ident, begin); pos != std::string::npos; pos = find_ident(c, ident, pos)) {
    if (pos < before.size() || c.compare(pos - before.size(), before.size(), before) != 0 ||
        c.compare(pos + ident.size(), after.size(), after) != 0) {
      pos += ident.size();
      continue;
    }
    c.replace(pos - before.size(), before.size() + ident.size() + after.size(), to);
    pos += to.size() - before.size();
  }
}

// wasm2c 1.0.32 gives a module's tags static storage (one tag for all its
// instances) and imported tags one global symbol, but tags are generative:
// each instance must have its own. Every use of a tag in function bodies is
// redirected to the glue's per-instance accessor Z_<name>iZ_tag<j> (see
// glue_source). False if a use was left unpatched.
bool patch_tags(std::string& c, const std::string& name, const std::vector<std::string>& imported, size_t num_defined) {
  if (imported.empty() && num_defined == 0) return true;
  const std::string imod = "Z_" + name + "i";
  auto accessor = [&](size_t j) {
    return "(*" + imod + "Z_tag" + std::to_string(j) + "(instance->" + imod + "_instance))";
  };
  // Declarations, ahead of the first use.
  std::string decls;
  for (size_t j = 0; j < imported.size() + num_defined; ++j)
    decls += "u32* " + imod + "Z_tag" + std::to_string(j) + "(struct " + imod + "_instance_t*);\n";
  const std::string include = "#include \"" + name + ".h\"\n";
  size_t at = c.find(include);
  if (at == std::string::npos) return false;
  c.insert(at + include.size(), decls);
  // Function bodies come after the static registration of defined tags.
  size_t bodies = 0;
  if (num_defined > 0) {
    size_t init = c.find("static void init_tags(void) {");
    if (init == std::string::npos) return false;
    bodies = c.find("\n}\n", init);
    if (bodies == std::string::npos) return false;
  }
  for (size_t j = 0; j < imported.size(); ++j) {
    replace_ident(c, bodies, "(*", imported[j], ")", accessor(j));
    if (find_ident(c, imported[j], bodies) != std::string::npos) return false;
  }
  for (size_t d = 0; d < num_defined; ++d) {
    std::string symbol = "w2c_stratustag" + std::to_string(imported.size() + d);
    replace_ident(c, bodies, "", symbol, "", accessor(imported.size() + d));
  }
  return true;
}

std::string to_string(const wabt::MemoryStream& s) {
  const auto& data = const_cast<wabt::MemoryStream&>(s).output_buffer().data;
  return std::string(data.begin(), data.end());
}

}  // namespace

std::string descriptor_symbol(const std::string& c_name) { return "stratus_module_" + c_name; }

std::string signature_source(const FuncType& type, const std::string& symbol) {
  std::string out = "/* Generated by stratus: code for signature " + signature_of(type) + " */\n";
  out += "#include \"wasm-rt.h\"\n";
  out += "typedef uint32_t u32;\ntypedef uint64_t u64;\ntypedef float f32;\ntypedef double f64;\n";
  if (type.results.size() > 1) out += multi_struct(type);
  out += sig_code(type, 0);
  out += "__attribute__((visibility(\"default\"))) const stratus_rt_sig_t* " + symbol +
         "(void) {\n  static const stratus_rt_sig_t sig = {\"" + signature_of(type) +
         "\", inv_0, (wasm_rt_function_ptr_t)host_0};\n  return &sig;\n}\n";
  return out;
}

Result<GeneratedC> generate_c(DecodedModule& module, const std::string& name) {
  wabt::Module& m = *module.ir;
  const ModuleInfo& info = module.info;
  const std::string import_module = name + "i";
  std::vector<std::string> imported_tags;  // the C symbol of each imported tag

  // Stable C symbols: wasm2c names import symbols after (module, field) and
  // export symbols after the export name; rename both so every symbol is
  // Z_<name>iZ_<kind><index> or Z_<name>Z_e<index>, whatever the names were.
  for (size_t k = 0; k < m.imports.size(); ++k) {
    auto* imp = m.imports[k];
    const char* prefix = "f";
    switch (imp->kind()) {
      case wabt::ExternalKind::Memory: prefix = "m"; break;
      case wabt::ExternalKind::Table: prefix = "t"; break;
      case wabt::ExternalKind::Global: prefix = "g"; break;
      case wabt::ExternalKind::Tag: prefix = "x"; break;
      default: break;
    }
    imp->module_name = import_module;
    imp->field_name = prefix + std::to_string(k);
    if (imp->kind() == wabt::ExternalKind::Tag)
      imported_tags.push_back("Z_" + import_module + "Z_x" + std::to_string(k));
  }
  m.export_bindings.clear();
  for (size_t k = 0; k < m.exports.size(); ++k) m.exports[k]->name = "e" + std::to_string(k);
  // Defined tags get names patch_tags() can find; exported tags get no C
  // symbol (the engine hands out its per-instance tag objects instead).
  for (size_t j = m.num_tag_imports; j < m.tags.size(); ++j) {
    m.tags[j]->name = "$stratustag" + std::to_string(j);
    m.tag_bindings.emplace(m.tags[j]->name, wabt::Binding(static_cast<Index>(j)));
  }
  m.exports.erase(std::remove_if(m.exports.begin(), m.exports.end(),
                                 [](const wabt::Export* e) { return e->kind == wabt::ExternalKind::Tag; }),
                  m.exports.end());
  for (auto it = m.fields.begin(); it != m.fields.end();) {
    auto* field = wabt::dyn_cast<wabt::ExportModuleField>(&*it);
    if (field && field->export_.kind == wabt::ExternalKind::Tag) {
      it = m.fields.erase(it);
    } else {
      ++it;
    }
  }

  // Deadline checks (Wasmtime's epoch interruption is the model).
  size_t checks = add_deadline_checks(m, import_module);

  // One invoker and host trampoline per distinct signature of the module.
  std::vector<FuncType> sigs;
  std::set<std::string> seen;
  for (const auto* t : m.types) {
    auto* ft = wabt::dyn_cast<wabt::FuncType>(t);
    if (!ft) continue;
    FuncType type;
    bool ok = true;
    for (auto p : ft->sig.param_types) ok = add_type(type.params, p) && ok;
    for (auto r : ft->sig.result_types) ok = add_type(type.results, r) && ok;
    if (!ok) return make_error("aot: unsupported value type in a function type");
    if (seen.insert(signature_of(type)).second) sigs.push_back(std::move(type));
  }

  wabt::GenerateNames(&m);
  wabt::ApplyNames(&m);
  wabt::MemoryStream c_stream, h_stream;
  wabt::WriteCOptions options;
  options.module_name = name;
  const std::string header_name = name + ".h";
  if (wabt::Failed(wabt::WriteC(&c_stream, &h_stream, header_name.c_str(), &m, options)))
    return make_error("aot: wasm2c could not translate the module");
  GeneratedC out;
  out.name = name;
  out.source = to_string(c_stream);
  out.header = to_string(h_stream);
  patch_source(out.source);
  cache_memory_bases(out.source);
  inline_sqrt(out.source);
  if (!patch_checks(out.source, name, checks))
    return make_error("aot: unexpected wasm2c output (deadline checks not found); is this wasm2c 1.0.32?");
  if (!patch_tags(out.source, name, imported_tags, info.tags.size()))
    return make_error("aot: unexpected wasm2c output (tag uses not found); is this wasm2c 1.0.32?");
  out.glue = glue_source(name, info, sigs);
  return out;
}

}  // namespace stratus::engine::aot

#include "engine/aot/deadline_checks.h"

#include <iterator>

#include "wabt/cast.h"

namespace stratus::engine::aot {
namespace {

using wabt::cast;
using wabt::Expr;
using wabt::ExprList;
using wabt::ExprType;
using wabt::Index;
using wabt::Location;
using wabt::Var;

// Calls f on every instruction list nested directly in `e` (block, loop and
// if bodies, try bodies and their catch handlers).
template <typename F>
void for_each_body(Expr& e, F&& f) {
  switch (e.type()) {
    case ExprType::Block: f(cast<wabt::BlockExpr>(&e)->block.exprs); break;
    case ExprType::Loop: f(cast<wabt::LoopExpr>(&e)->block.exprs); break;
    case ExprType::If:
      f(cast<wabt::IfExpr>(&e)->true_.exprs);
      f(cast<wabt::IfExpr>(&e)->false_);
      break;
    case ExprType::Try: {
      auto* t = cast<wabt::TryExpr>(&e);
      f(t->block.exprs);
      for (auto& c : t->catches) f(c.exprs);
      break;
    }
    default: break;
  }
}

// Function indices at or above `from` move up by one (an import was inserted).
void renumber_funcs(ExprList& list, Index from) {
  auto bump = [&](Var& v) {
    if (v.is_index() && v.index() >= from) v.set_index(v.index() + 1);
  };
  for (Expr& e : list) {
    switch (e.type()) {
      case ExprType::Call: bump(cast<wabt::CallExpr>(&e)->var); break;
      case ExprType::ReturnCall: bump(cast<wabt::ReturnCallExpr>(&e)->var); break;
      case ExprType::RefFunc: bump(cast<wabt::RefFuncExpr>(&e)->var); break;
      default: for_each_body(e, [&](ExprList& body) { renumber_funcs(body, from); }); break;
    }
  }
}

bool has_call(ExprList& list) {
  for (Expr& e : list) {
    switch (e.type()) {
      case ExprType::Call:
      case ExprType::CallIndirect:
      case ExprType::ReturnCall:
      case ExprType::ReturnCallIndirect:
      case ExprType::CallRef: return true;
      default: {
        bool found = false;
        for_each_body(e, [&](ExprList& body) { found = found || has_call(body); });
        if (found) return true;
        break;
      }
    }
  }
  return false;
}

// `global.get $flag; if; call $hook; end` in wasm; patch_checks() turns it
// into `if (stratus_rt_thread.interrupt) wasm_rt_trap(DEADLINE)` in C: a
// volatile thread-local load (never hoisted out of a loop) and a not-taken
// branch to a noreturn call, which does not make the C compiler forget what
// it knows about memory, as a returning call would.
void prepend_check(ExprList& list, Index flag, Index hook, size_t& count) {
  ++count;
  auto check = std::make_unique<wabt::IfExpr>();
  check->true_.exprs.push_back(std::make_unique<wabt::CallExpr>(Var(hook, Location())));
  list.insert(list.begin(), std::move(check));
  list.insert(list.begin(), std::make_unique<wabt::GlobalGetExpr>(Var(flag, Location())));
}

// Instructions that neither branch nor call: running one always goes on to
// the next instruction (or traps).
bool is_straight(const Expr& e) {
  switch (e.type()) {
    case ExprType::Binary:
    case ExprType::Compare:
    case ExprType::Const:
    case ExprType::Convert:
    case ExprType::Drop:
    case ExprType::GlobalGet:
    case ExprType::GlobalSet:
    case ExprType::Load:
    case ExprType::LocalGet:
    case ExprType::LocalSet:
    case ExprType::LocalTee:
    case ExprType::MemorySize:
    case ExprType::Nop:
    case ExprType::RefFunc:
    case ExprType::RefIsNull:
    case ExprType::RefNull:
    case ExprType::Select:
    case ExprType::Store:
    case ExprType::Ternary:
    case ExprType::Unary: return true;
    default: return false;
  }
}

// True if running `list` always reaches the header of a loop before any
// branch or call: after straight instructions, a loop, or a block whose body
// does so (a block's body runs unconditionally).
bool starts_with_loop(const ExprList& list) {
  for (const Expr& e : list) {
    if (e.type() == ExprType::Loop) return true;
    if (e.type() == ExprType::Block) return starts_with_loop(cast<wabt::BlockExpr>(&e)->block.exprs);
    if (!is_straight(e)) return false;
  }
  return false;
}

// A loop whose body starts with an inner loop (in the sense above) needs no
// check of its own: every iteration passes the inner loop's header, which
// checks (a loop's body runs at least once per entry). Nor does a function
// whose body starts with a loop: every call passes that loop's check before
// it can call again. Nested loops and recursive functions that loop pay one
// check instead of two.
void instrument_loops(ExprList& list, Index flag, Index hook, size_t& count) {
  for (Expr& e : list) {
    for_each_body(e, [&](ExprList& body) { instrument_loops(body, flag, hook, count); });
    if (e.type() != ExprType::Loop) continue;
    ExprList& body = cast<wabt::LoopExpr>(&e)->block.exprs;
    if (!starts_with_loop(body)) prepend_check(body, flag, hook, count);
  }
}

Index void_type(wabt::Module& m) {
  for (Index i = 0; i < m.types.size(); ++i) {
    auto* ft = wabt::dyn_cast<wabt::FuncType>(m.types[i]);
    if (ft && ft->sig.param_types.empty() && ft->sig.result_types.empty()) return i;
  }
  auto field = std::make_unique<wabt::TypeModuleField>();
  field->type = std::make_unique<wabt::FuncType>();
  m.AppendField(std::move(field));
  return static_cast<Index>(m.types.size() - 1);
}

// Inserts the import `<name>i.hook` as the last imported function and moves
// every defined function's index up by one.
Index add_hook_import(wabt::Module& m, const std::string& import_module) {
  Index type = void_type(m);
  Index hook = m.num_func_imports;
  for (wabt::Func* f : m.funcs) renumber_funcs(f->exprs, hook);
  for (wabt::Global* g : m.globals) renumber_funcs(g->init_expr, hook);
  for (wabt::ElemSegment* seg : m.elem_segments)
    for (ExprList& l : seg->elem_exprs) renumber_funcs(l, hook);
  for (wabt::Export* e : m.exports)
    if (e->kind == wabt::ExternalKind::Func && e->var.index() >= hook) e->var.set_index(e->var.index() + 1);
  for (Var* s : m.starts)
    if (s->index() >= hook) s->set_index(s->index() + 1);

  auto imp = std::make_unique<wabt::FuncImport>();
  imp->module_name = import_module;
  imp->field_name = "hook";
  imp->func.decl.has_func_type = true;
  imp->func.decl.type_var = Var(type, Location());
  wabt::Func* func = &imp->func;
  wabt::Import* import = imp.get();
  auto pos = m.fields.begin();
  for (auto it = m.fields.begin(); it != m.fields.end(); ++it)
    if (wabt::isa<wabt::ImportModuleField>(&*it)) pos = std::next(it);
  m.fields.insert(pos, std::make_unique<wabt::ImportModuleField>(std::move(imp)));
  m.imports.push_back(import);
  m.funcs.insert(m.funcs.begin() + hook, func);
  ++m.num_func_imports;
  return hook;
}

}  // namespace

size_t add_deadline_checks(wabt::Module& m, const std::string& import_module) {
  Index hook = add_hook_import(m, import_module);
  Index flag = static_cast<Index>(m.globals.size());
  {
    auto g = std::make_unique<wabt::GlobalModuleField>();
    g->global.type = wabt::Type::I32;
    g->global.mutable_ = true;
    g->global.init_expr.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I32(0)));
    m.AppendField(std::move(g));
    auto e = std::make_unique<wabt::ExportModuleField>();
    e->export_.name = "ix";
    e->export_.kind = wabt::ExternalKind::Global;
    e->export_.var = Var(flag, Location());
    m.AppendField(std::move(e));
  }
  size_t checks = 0;
  for (Index i = m.num_func_imports; i < m.funcs.size(); ++i) {
    wabt::Func* f = m.funcs[i];
    bool calls = has_call(f->exprs);
    instrument_loops(f->exprs, flag, hook, checks);
    if (calls && !starts_with_loop(f->exprs)) prepend_check(f->exprs, flag, hook, checks);
  }
  return checks;
}

}  // namespace stratus::engine::aot

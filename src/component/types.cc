#include "component/types.h"

#include "component/ast.h"
#include "component/val.h"

namespace stratus::component {

MapType make_map(ValType key, ValType value) {
  ValType entries = make_type(ListType{make_type(TupleType{{key, value}}), std::nullopt});
  return MapType{std::move(key), std::move(value), std::move(entries)};
}

const char* prim_name(PrimType t) {
  switch (t) {
    case PrimType::Bool: return "bool";
    case PrimType::S8: return "s8";
    case PrimType::U8: return "u8";
    case PrimType::S16: return "s16";
    case PrimType::U16: return "u16";
    case PrimType::S32: return "s32";
    case PrimType::U32: return "u32";
    case PrimType::S64: return "s64";
    case PrimType::U64: return "u64";
    case PrimType::F32: return "f32";
    case PrimType::F64: return "f64";
    case PrimType::Char: return "char";
    case PrimType::String: return "string";
    case PrimType::ErrorContext: return "error-context";
  }
  return "?";
}

const char* sort_name(Sort s) {
  switch (s) {
    case Sort::CoreFunc: return "core func";
    case Sort::CoreTable: return "core table";
    case Sort::CoreMemory: return "core memory";
    case Sort::CoreGlobal: return "core global";
    case Sort::CoreTag: return "core tag";
    case Sort::CoreType: return "core type";
    case Sort::CoreModule: return "core module";
    case Sort::CoreInstance: return "core instance";
    case Sort::Func: return "func";
    case Sort::Value: return "value";
    case Sort::Type: return "type";
    case Sort::Component: return "component";
    case Sort::Instance: return "instance";
  }
  return "?";
}

const char* val_kind_name(ValKind k) {
  switch (k) {
    case ValKind::Bool: return "bool";
    case ValKind::S8: return "s8";
    case ValKind::U8: return "u8";
    case ValKind::S16: return "s16";
    case ValKind::U16: return "u16";
    case ValKind::S32: return "s32";
    case ValKind::U32: return "u32";
    case ValKind::S64: return "s64";
    case ValKind::U64: return "u64";
    case ValKind::F32: return "f32";
    case ValKind::F64: return "f64";
    case ValKind::Char: return "char";
    case ValKind::String: return "string";
    case ValKind::List: return "list";
    case ValKind::Record: return "record";
    case ValKind::Tuple: return "tuple";
    case ValKind::Variant: return "variant";
    case ValKind::Enum: return "enum";
    case ValKind::Option: return "option";
    case ValKind::Result: return "result";
    case ValKind::Flags: return "flags";
    case ValKind::Own: return "own";
    case ValKind::Borrow: return "borrow";
    case ValKind::Stream: return "stream";
    case ValKind::Future: return "future";
    case ValKind::ErrorContext: return "error-context";
  }
  return "?";
}

}  // namespace stratus::component

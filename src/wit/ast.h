// The syntax tree of WIT text (WIT.md): what the parser produces, before
// names are resolved. Every node keeps where it was written, so that later
// checks can report file:line:column.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "component/types.h"

namespace stratus::wit {

struct Pos {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in bytes
};

// @since(version = ..), @unstable(feature = ..), @deprecated(version = ..).
struct Gates {
  std::optional<std::string> since;
  std::optional<std::string> unstable;
  std::optional<std::string> deprecated;
  bool empty() const { return !since && !unstable && !deprecated; }
};

// A type expression (`ty`).
struct Type;
using TypePtr = std::shared_ptr<const Type>;
struct Type {
  enum class Kind : uint8_t { Prim, Named, List, Tuple, Option, Result, Map, Borrow, Future, Stream };
  Kind kind = Kind::Prim;
  component::PrimType prim = component::PrimType::Bool;  // Prim
  std::string name;                                      // Named, Borrow: the referenced type
  // List, Option: [element]; Tuple: the elements; Map: [key, value];
  // Result: [ok, err]; Future, Stream: [element]. Null entries are absent
  // parts (`result<_, e>`, a bare `future`).
  std::vector<TypePtr> args;
  std::optional<uint32_t> length;  // a fixed-length list
  Pos pos;
};

struct Param {
  std::string name;
  TypePtr type;
  Pos pos;
};

struct FuncSig {
  bool async = false;
  std::vector<Param> params;
  TypePtr result;  // null: no result
};

// Things that may carry doc comments (`///`, `/** */`) and gates.
struct Attributes {
  std::string docs;
  Gates gates;
  std::optional<std::string> external_id;  // @external-id("...")
};

struct Field {
  std::string name;
  TypePtr type;
  std::string docs;
  Pos pos;
};

struct CaseDecl {
  std::string name;
  TypePtr type;  // null: no payload
  std::string docs;
  Pos pos;
};

struct ResourceFunc {
  enum class Kind : uint8_t { Method, Static, Constructor };
  Kind kind = Kind::Method;
  std::string name;  // empty for the constructor
  FuncSig sig;       // a constructor's result is null unless written
  Attributes attrs;
  Pos pos;
};

struct TypeDecl {
  enum class Kind : uint8_t { Alias, Record, Variant, Enum, Flags, Resource };
  Kind kind = Kind::Alias;
  std::string name;
  TypePtr alias;                    // Alias
  std::vector<Field> fields;        // Record
  std::vector<CaseDecl> cases;      // Variant; Enum and Flags (no payloads)
  std::vector<ResourceFunc> funcs;  // Resource
  Attributes attrs;
  Pos pos;
};

// An interface or world reference: `name` (in this package) or
// `ns:pkg/name@version` (nested namespaces and packages allowed).
struct UsePath {
  std::vector<std::string> package;  // "wasi", "io": empty for a local name
  std::string name;                  // the interface (or world)
  std::optional<std::string> version;
  Pos pos;
  bool local() const { return package.empty(); }
  std::string to_string() const;
};

struct UseDecl {
  UsePath from;
  struct Name {
    std::string name;
    std::string as;  // empty: the same name
    Pos pos;
  };
  std::vector<Name> names;
  Attributes attrs;
  Pos pos;
};

struct FuncDecl {
  std::string name;
  FuncSig sig;
  Attributes attrs;
  Pos pos;
};

struct InterfaceDecl;
using InterfaceItem = std::variant<UseDecl, TypeDecl, FuncDecl>;
struct InterfaceDecl {
  std::string name;  // empty for an inline interface in a world
  std::vector<InterfaceItem> items;
  Attributes attrs;
  Pos pos;
};

// `import`/`export` in a world: of a function, an inline interface, or a
// named interface (`import wasi:io/streams;`, or `import name: path;`).
struct ExternDecl {
  bool import = true;
  std::string name;  // the plain name; empty for the path-only form
  std::optional<FuncSig> func;
  std::shared_ptr<InterfaceDecl> interface;
  std::optional<UsePath> path;
  Attributes attrs;
  Pos pos;
};

struct IncludeDecl {
  UsePath world;
  struct Rename {
    std::string from;
    std::string to;
    Pos pos;
  };
  std::vector<Rename> with;
  Attributes attrs;
  Pos pos;
};

using WorldItem = std::variant<ExternDecl, UseDecl, TypeDecl, IncludeDecl>;
struct WorldDecl {
  std::string name;
  std::vector<WorldItem> items;
  Attributes attrs;
  Pos pos;
};

// `use ns:pkg/iface as name;` at the top of a file.
struct TopUse {
  UsePath path;
  std::string as;  // empty: the interface's own name
  Pos pos;
};

struct PackageName {
  std::vector<std::string> namespaces;  // at least one
  std::string name;
  std::optional<std::string> version;
  Pos pos;
  std::string to_string() const;  // "ns:name@version"
};

using PackageItem = std::variant<TopUse, InterfaceDecl, WorldDecl>;

// A `package ... { ... }` block, or the items of a file outside any block
// (then `name` is the file's `package ...;` declaration, if it has one).
struct PackageBody {
  std::optional<PackageName> name;
  std::vector<PackageItem> items;
};

struct File {
  std::string path;  // as given to the parser, for messages
  PackageBody top;
  std::vector<PackageBody> nested;
};

}  // namespace stratus::wit

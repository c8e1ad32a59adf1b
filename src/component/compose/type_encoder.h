// Writes resolved types (types.h) back as type definitions of the binary
// format, into one type index space: a component's (its type sections) or
// an instance type's (its declarators). Compound value types become
// definitions of their own, written before the type that uses them, once
// each; a type an export named is referred to by that export's index, as
// wit-component writes them, so that `jco wit` prints the names. Resources
// and named types of other imports are found through `Space::outside`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/compose/writer.h"
#include "component/types.h"
#include "support/result.h"

namespace stratus::component::compose {

// A type of another import (a ResourceType or a TypeName) by its address.
using TypeKey = const void*;

struct Space {
  // Adds a definition (a deftype's bytes) and returns its index.
  std::function<uint32_t(std::vector<uint8_t>)> define;
  // The index, in this space, of a resource or named type defined outside
  // it (made on first use, e.g. by an outer alias); none if unknown.
  std::function<std::optional<uint32_t>(TypeKey)> outside;
};

class TypeEncoder {
 public:
  explicit TypeEncoder(Space space) : space_(std::move(space)) {}

  // Writes a valtype: a primitive's code or a defined type's index.
  Result<void> valtype(const ValType& t, Writer& out);
  // A type index for `t` (primitives get a definition of their own).
  Result<uint32_t> valtype_index(const ValType& t);
  Result<uint32_t> functype_index(const FuncType& f);
  // The index of a resource type (or of the export that named it).
  Result<uint32_t> resource_index(const ResourceTypePtr& r, const TypeNamePtr& alias);
  // `key` (a resource or a type name) is at `index` from now on.
  void bind(TypeKey key, uint32_t index) { known_[key] = index; }
  std::optional<uint32_t> lookup(TypeKey key);

  Space& space() { return space_; }

 private:
  struct Ref {
    bool primitive = false;
    uint32_t value = 0;  // the primitive's code or the type index
  };
  Result<Ref> ref(const ValType& t);
  Result<void> defvaltype(const DefinedType& d, Writer& out);
  Result<void> optional_valtype(const std::optional<ValType>& t, Writer& out);

  Space space_;
  std::map<TypeKey, uint32_t> known_;
  std::map<std::pair<const DefinedType*, const TypeName*>, uint32_t> defined_;
};

// Where an instance type being written finds the types it does not define.
struct Outside {
  // The enclosing component's index of a type of another import (an outer
  // alias is written for it).
  std::function<std::optional<uint32_t>(TypeKey)> outer;
  // For a type of another component's view of the same interface (two
  // importers each name its types): the export of this instance type it
  // stands for.
  std::function<std::optional<std::string>(TypeKey)> same_interface;
};

// An instance type (`0x42 vec(instancedecl)`) whose exports are `t`'s.
Result<std::vector<uint8_t>> encode_instance_type(const InstanceType& t, const Outside& outside);

}  // namespace stratus::component::compose

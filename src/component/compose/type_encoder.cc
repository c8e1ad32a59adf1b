#include "component/compose/type_encoder.h"

#include <span>
#include <string>
#include <type_traits>

namespace stratus::component::compose {
namespace {

uint8_t prim_code(PrimType p) {
  switch (p) {
    case PrimType::Bool: return 0x7f;
    case PrimType::S8: return 0x7e;
    case PrimType::U8: return 0x7d;
    case PrimType::S16: return 0x7c;
    case PrimType::U16: return 0x7b;
    case PrimType::S32: return 0x7a;
    case PrimType::U32: return 0x79;
    case PrimType::S64: return 0x78;
    case PrimType::U64: return 0x77;
    case PrimType::F32: return 0x76;
    case PrimType::F64: return 0x75;
    case PrimType::Char: return 0x74;
    case PrimType::String: return 0x73;
    case PrimType::ErrorContext: return 0x64;
  }
  return 0x7f;
}

}  // namespace

std::optional<uint32_t> TypeEncoder::lookup(TypeKey key) {
  if (key == nullptr) return std::nullopt;
  if (auto it = known_.find(key); it != known_.end()) return it->second;
  if (!space_.outside) return std::nullopt;
  auto index = space_.outside(key);
  if (index) known_[key] = *index;
  return index;
}

Result<uint32_t> TypeEncoder::resource_index(const ResourceTypePtr& r, const TypeNamePtr& alias) {
  if (auto named = lookup(alias.get())) return *named;
  if (auto index = lookup(r.get())) return *index;
  return make_error("resource `" + r->name + "` is neither exported by this interface nor by an imported one");
}

Result<void> TypeEncoder::optional_valtype(const std::optional<ValType>& t, Writer& out) {
  if (!t) {
    out.u8(0x00);
    return {};
  }
  out.u8(0x01);
  return valtype(*t, out);
}

Result<void> TypeEncoder::defvaltype(const DefinedType& d, Writer& out) {
  return std::visit(
      [&](const auto& k) -> Result<void> {
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, RecordType>) {
          out.u8(0x72);
          out.u32(static_cast<uint32_t>(k.fields.size()));
          for (const auto& f : k.fields) {
            out.name(f.name);
            STRATUS_TRY(valtype(f.type, out));
          }
        } else if constexpr (std::is_same_v<K, VariantType>) {
          out.u8(0x71);
          out.u32(static_cast<uint32_t>(k.cases.size()));
          for (const auto& c : k.cases) {
            out.name(c.name);
            STRATUS_TRY(optional_valtype(c.type, out));
            out.u8(0x00);  // no refinement
          }
        } else if constexpr (std::is_same_v<K, ListType>) {
          out.u8(k.length ? 0x67 : 0x70);
          STRATUS_TRY(valtype(k.element, out));
          if (k.length) out.u32(*k.length);
        } else if constexpr (std::is_same_v<K, TupleType>) {
          out.u8(0x6f);
          out.u32(static_cast<uint32_t>(k.elements.size()));
          for (const auto& e : k.elements) STRATUS_TRY(valtype(e, out));
        } else if constexpr (std::is_same_v<K, FlagsType> || std::is_same_v<K, EnumType>) {
          out.u8(std::is_same_v<K, FlagsType> ? 0x6e : 0x6d);
          out.u32(static_cast<uint32_t>(k.names.size()));
          for (const auto& n : k.names) out.name(n);
        } else if constexpr (std::is_same_v<K, OptionType>) {
          out.u8(0x6b);
          STRATUS_TRY(valtype(k.element, out));
        } else if constexpr (std::is_same_v<K, ResultType>) {
          out.u8(0x6a);
          STRATUS_TRY(optional_valtype(k.ok, out));
          STRATUS_TRY(optional_valtype(k.err, out));
        } else if constexpr (std::is_same_v<K, OwnType> || std::is_same_v<K, BorrowType>) {
          auto index = resource_index(k.resource, k.alias);
          if (!index) return std::move(index).error();
          out.u8(std::is_same_v<K, OwnType> ? 0x69 : 0x68);
          out.u32(*index);
        } else if constexpr (std::is_same_v<K, StreamType> || std::is_same_v<K, FutureType>) {
          out.u8(std::is_same_v<K, StreamType> ? 0x66 : 0x65);
          STRATUS_TRY(optional_valtype(k.element, out));
        } else if constexpr (std::is_same_v<K, MapType>) {
          out.u8(0x63);
          STRATUS_TRY(valtype(k.key, out));
          STRATUS_TRY(valtype(k.value, out));
        }
        return {};
      },
      d.kind);
}

Result<TypeEncoder::Ref> TypeEncoder::ref(const ValType& t) {
  if (auto named = lookup(t.name())) return Ref{false, *named};
  if (t.is_primitive()) return Ref{true, prim_code(t.primitive())};
  auto key = std::make_pair(t.defined_ptr().get(), t.name());
  if (auto it = defined_.find(key); it != defined_.end()) return Ref{false, it->second};
  // The parts are defined first, so they get their indices before this one.
  Writer def;
  STRATUS_TRY(defvaltype(t.defined(), def));
  uint32_t index = space_.define(def.take());
  defined_[key] = index;
  return Ref{false, index};
}

Result<void> TypeEncoder::valtype(const ValType& t, Writer& out) {
  auto r = ref(t);
  if (!r) return std::move(r).error();
  if (r->primitive) {
    out.u8(static_cast<uint8_t>(r->value));
  } else {
    out.s33(r->value);
  }
  return {};
}

Result<uint32_t> TypeEncoder::valtype_index(const ValType& t) {
  auto r = ref(t);
  if (!r) return std::move(r).error();
  if (!r->primitive) return r->value;
  return space_.define({static_cast<uint8_t>(r->value)});
}

Result<uint32_t> TypeEncoder::functype_index(const FuncType& f) {
  Writer def;
  def.u8(f.async ? 0x43 : 0x40);
  def.u32(static_cast<uint32_t>(f.params.size()));
  for (const auto& p : f.params) {
    def.name(p.name);
    STRATUS_TRY(valtype(p.type, def));
  }
  if (f.result) {
    def.u8(0x00);
    STRATUS_TRY(valtype(*f.result, def));
  } else {
    def.u8(0x01);
    def.u8(0x00);
  }
  return space_.define(def.take());
}

Result<std::vector<uint8_t>> encode_instance_type(const InstanceType& t, const Outside& outside) {
  std::vector<std::vector<uint8_t>> decls;
  uint32_t types = 0;
  std::map<std::string, uint32_t> type_exports;  // by export name: their indices
  Space space;
  space.define = [&](std::vector<uint8_t> def) {
    std::vector<uint8_t> decl = {0x01};
    decl.insert(decl.end(), def.begin(), def.end());
    decls.push_back(std::move(decl));
    return types++;
  };
  space.outside = [&](TypeKey key) -> std::optional<uint32_t> {
    if (outside.same_interface) {
      if (auto name = outside.same_interface(key)) {
        auto it = type_exports.find(*name);
        if (it != type_exports.end()) return it->second;
      }
    }
    auto index = outside.outer ? outside.outer(key) : std::nullopt;
    if (!index) return std::nullopt;
    Writer alias;  // alias outer 1 index (type)
    alias.u8(0x02);
    alias.u8(0x03);
    alias.u8(0x02);
    alias.u32(1);
    alias.u32(*index);
    decls.push_back(alias.take());
    return types++;
  };
  TypeEncoder enc(space);
  auto export_decl = [&](const std::string& name, std::span<const uint8_t> desc) {
    Writer d;
    d.u8(0x04);
    d.u8(0x00);
    d.name(name);
    d.raw(desc);
    decls.push_back(d.take());
  };
  for (const auto& e : t.exports) {
    Writer desc;
    if (const auto* f = std::get_if<FuncTypePtr>(&e.type)) {
      auto index = enc.functype_index(**f);
      if (!index) return make_error("`" + e.name + "`: " + index.error().message);
      desc.u8(0x01);
      desc.u32(*index);
      export_decl(e.name, desc.bytes());
    } else if (const auto* b = std::get_if<TypeBound>(&e.type)) {
      desc.u8(0x03);
      if (b->sub_resource) {
        desc.u8(0x01);
        export_decl(e.name, desc.bytes());
        type_exports[e.name] = types;
        enc.bind(std::get<ResourceTypePtr>(b->type).get(), types++);
        continue;
      }
      Result<uint32_t> target = 0u;
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) {
        target = enc.resource_index(*r, nullptr);
      } else {
        const auto& v = std::get<ValType>(b->type);
        // The type it equals, not itself by its own name.
        target = enc.valtype_index(v.name() == b->name.get() ? v.with_name(nullptr) : v);
      }
      if (!target) return make_error("`" + e.name + "`: " + target.error().message);
      desc.u8(0x00);
      desc.u32(*target);
      export_decl(e.name, desc.bytes());
      uint32_t index = types++;
      type_exports[e.name] = index;
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type)) enc.bind(r->get(), index);
      if (b->name != nullptr) enc.bind(b->name.get(), index);
    } else {
      return make_error("`" + e.name + "`: only functions and types can be exported by an imported instance here");
    }
  }
  Writer out;
  out.u8(0x42);
  out.u32(static_cast<uint32_t>(decls.size()));
  for (const auto& d : decls) out.raw(d);
  return out.take();
}

}  // namespace stratus::component::compose

#include "component/compose/compose.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "component/ast.h"
#include "component/binary/decoder.h"
#include "component/binary/subtype.h"
#include "component/compose/type_encoder.h"
#include "component/compose/writer.h"

namespace stratus::component::compose {
namespace {

using binary::ResourceMap;

// One component of the composition: a plug, or the main one.
struct Part {
  const ComposeInput* input = nullptr;
  ComponentPtr component;
  // Per import: the plug (an index into parts) that exports it, if any.
  std::vector<std::optional<size_t>> plugged_from;
};

// An import the result keeps: the type every importer accepts.
struct OuterImport {
  std::string name;
  ExternType type;
  std::string first_file;
  uint8_t sort = 0;
  uint32_t index = 0;  // in its sort's index space of the result
};

// The sort byte(s) of `sortidx` for an extern type; none for core modules.
std::optional<uint8_t> sort_of(const ExternType& t) {
  if (std::holds_alternative<FuncTypePtr>(t)) return 0x01;
  if (std::holds_alternative<ValueBound>(t)) return 0x02;
  if (std::holds_alternative<TypeBound>(t)) return 0x03;
  if (std::holds_alternative<ComponentTypePtr>(t)) return 0x04;
  if (std::holds_alternative<InstanceTypePtr>(t)) return 0x05;
  return std::nullopt;
}

const ExternType* find_export(const Component& c, const std::string& name) {
  for (const auto& e : c.type->exports)
    if (e.name == name) return &e.type;
  return nullptr;
}

std::string quoted_list(const std::vector<NamedExtern>& externs) {
  std::string s;
  for (const auto& e : externs) s += (s.empty() ? "`" : ", `") + e.name + "`";
  return s.empty() ? "nothing" : s;
}

class Composer {
 public:
  Composer(const ComposeInput& main, const std::vector<ComposeInput>& plugs) : main_(main), plugs_(plugs) {}

  Result<std::vector<uint8_t>> run() {
    STRATUS_TRY(decode());
    STRATUS_TRY(match());
    STRATUS_TRY(order());
    STRATUS_TRY(check_types());
    return encode();
  }

 private:
  Result<void> decode() {
    auto add = [&](const ComposeInput& in) -> Result<void> {
      if (!is_component(in.bytes)) return make_error(in.file + ": not a component");
      auto c = decode_component(in.bytes);
      if (!c) return make_error(in.file + ": " + c.error().message);
      Part p;
      p.input = &in;
      p.component = *c;
      p.plugged_from.resize((*c)->type->imports.size());
      parts_.push_back(std::move(p));
      return {};
    };
    for (const auto& plug : plugs_) STRATUS_TRY(add(plug));
    return add(main_);  // last: parts_.back()
  }

  const std::string& file(size_t part) const { return parts_[part].input->file; }

  Result<void> match() {
    std::vector<bool> used(plugs_.size(), false);
    for (size_t p = 0; p < parts_.size(); ++p) {
      const auto& imports = parts_[p].component->type->imports;
      for (size_t i = 0; i < imports.size(); ++i) {
        std::vector<size_t> exporters;
        for (size_t d = 0; d < plugs_.size(); ++d)
          if (d != p && find_export(*parts_[d].component, imports[i].name) != nullptr) exporters.push_back(d);
        if (exporters.size() > 1)
          return make_error("`" + imports[i].name + "` (imported by " + file(p) + ") is exported by both " +
                            file(exporters[0]) + " and " + file(exporters[1]) + ": ambiguous");
        if (exporters.size() == 1) {
          parts_[p].plugged_from[i] = exporters[0];
          used[exporters[0]] = true;
        }
      }
    }
    for (size_t d = 0; d < plugs_.size(); ++d)
      if (!used[d])
        return make_error(file(d) + " plugs none of the imports of " + main_.file + " (it exports " +
                          quoted_list(parts_[d].component->type->exports) + "; " + main_.file + " imports " +
                          quoted_list(parts_.back().component->type->imports) + ")");
    return {};
  }

  // Plugs before what imports from them; the main component last.
  Result<void> order() {
    std::vector<int> state(parts_.size(), 0);  // 0 new, 1 on the path, 2 done
    std::vector<size_t> path;
    std::function<Result<void>(size_t)> visit = [&](size_t p) -> Result<void> {
      if (state[p] == 2) return {};
      if (state[p] == 1) {
        std::string cycle;
        auto from = std::find(path.begin(), path.end(), p);
        for (auto it = from; it != path.end(); ++it) cycle += file(*it) + " -> ";
        return make_error("the plugs import from each other in a cycle: " + cycle + file(p));
      }
      state[p] = 1;
      path.push_back(p);
      for (const auto& from : parts_[p].plugged_from)
        if (from) STRATUS_TRY(visit(*from));
      path.pop_back();
      state[p] = 2;
      order_.push_back(p);
      return {};
    };
    return visit(parts_.size() - 1);
  }

  // Each plugged import against the plug's export, and the imports the
  // result keeps against each other; resource types of the same import are
  // made one (equiv_) on the way.
  Result<void> check_types() {
    for (size_t p : order_) {
      const auto& imports = parts_[p].component->type->imports;
      for (size_t i = 0; i < imports.size(); ++i) {
        const auto& [name, type] = imports[i];
        if (auto d = parts_[p].plugged_from[i]) {
          auto exported = binary::substitute(*find_export(*parts_[*d].component, name), equiv_);
          binary::bind_resources(type, exported, equiv_);
          auto ok = binary::check_subtype(exported, binary::substitute(type, equiv_));
          if (!ok)
            return make_error("`" + name + "`: the export of " + file(*d) + " does not match the import of " + file(p) +
                              ": " + ok.error().message);
          continue;
        }
        STRATUS_TRY(keep_import(p, name, type));
      }
    }
    return {};
  }

  Result<void> keep_import(size_t p, const std::string& name, const ExternType& type) {
    remember_origins(name, type);
    auto it = std::find_if(outer_.begin(), outer_.end(), [&](const OuterImport& o) { return o.name == name; });
    if (it == outer_.end()) {
      outer_.push_back({name, binary::substitute(type, equiv_), file(p)});
      return {};
    }
    binary::bind_resources(type, it->type, equiv_);
    auto mine = binary::substitute(type, equiv_);
    auto ok = binary::check_subtype(it->type, mine);
    if (ok) return {};
    // Two views of one interface, each with the functions its importer
    // uses: the result imports their union.
    const auto* kept = std::get_if<InstanceTypePtr>(&it->type);
    const auto* other = std::get_if<InstanceTypePtr>(&mine);
    if (kept != nullptr && other != nullptr) {
      auto both = std::make_shared<InstanceType>(**kept);
      for (const auto& e : (*other)->exports) {
        bool have = std::any_of(both->exports.begin(), both->exports.end(),
                                [&](const NamedExtern& k) { return k.name == e.name; });
        if (!have) both->exports.push_back(e);
      }
      ExternType merged = InstanceTypePtr(both);
      if (binary::check_subtype(merged, mine) && binary::check_subtype(merged, it->type)) {
        it->type = merged;
        return {};
      }
    }
    return make_error("`" + name + "` is imported by " + it->first_file + " and " + file(p) +
                      " with incompatible types: " + ok.error().message);
  }

  // Where the resources and named types an imported instance exports come
  // from, so that other imports' types can refer to them.
  void remember_origins(const std::string& name, const ExternType& type) {
    const auto* it = std::get_if<InstanceTypePtr>(&type);
    if (it == nullptr) return;
    for (const auto& e : (*it)->exports) {
      const auto* b = std::get_if<TypeBound>(&e.type);
      if (b == nullptr) continue;
      // A resource re-exported (`use`d) comes from the import that
      // introduced it: the first seen.
      if (const auto* r = std::get_if<ResourceTypePtr>(&b->type))
        origins_.emplace(r->get(), std::make_pair(name, e.name));
      if (b->name != nullptr) origins_.emplace(b->name.get(), std::make_pair(name, e.name));
    }
  }

  std::optional<uint32_t> outer_type(TypeKey key) const {
    auto o = origins_.find(key);
    if (o == origins_.end()) return std::nullopt;
    auto at = aliased_types_.find(o->second);
    if (at == aliased_types_.end()) return std::nullopt;
    return at->second;
  }

  void section(uint8_t id, const std::vector<std::vector<uint8_t>>& items) {
    Writer content;
    content.u32(static_cast<uint32_t>(items.size()));
    for (const auto& item : items) content.raw(item);
    out_.section(id, content.bytes());
  }

  static std::vector<uint8_t> alias_export(uint8_t sort, uint32_t instance, const std::string& name) {
    Writer a;
    a.u8(sort);
    a.u8(0x00);
    a.u32(instance);
    a.name(name);
    return a.take();
  }

  uint32_t& counter(uint8_t sort) {
    switch (sort) {
      case 0x01: return funcs_;
      case 0x02: return values_;
      case 0x03: return types_;
      case 0x04: return components_;
      default: return instances_;
    }
  }

  // Writes `t` (an instance or function type) into the result's type
  // index space and returns its externdesc. `interface`: the import it is
  // the type of, whose importers' views name its types each their own way.
  Result<std::vector<uint8_t>> extern_desc(const ExternType& t, const std::string& interface) {
    Outside outside;
    outside.outer = [this](TypeKey key) { return outer_type(key); };
    if (!interface.empty()) {
      outside.same_interface = [this, interface](TypeKey key) -> std::optional<std::string> {
        auto o = origins_.find(key);
        if (o == origins_.end() || o->second.first != interface) return std::nullopt;
        return o->second.second;
      };
    }
    Writer desc;
    if (const auto* it = std::get_if<InstanceTypePtr>(&t)) {
      auto bytes = encode_instance_type(**it, outside);
      if (!bytes) return std::move(bytes).error();
      section(kTypeSection, {*bytes});
      desc.u8(0x05);
      desc.u32(types_++);
    } else {
      Space top;
      top.define = [this](std::vector<uint8_t> def) {
        section(kTypeSection, {def});
        return types_++;
      };
      top.outside = outside.outer;
      TypeEncoder enc(top);
      auto index = enc.functype_index(*std::get<FuncTypePtr>(t));
      if (!index) return std::move(index).error();
      desc.u8(0x01);
      desc.u32(*index);
    }
    return desc.take();
  }

  Result<void> import_outer(OuterImport& o) {
    if (!std::holds_alternative<InstanceTypePtr>(o.type) && !std::holds_alternative<FuncTypePtr>(o.type))
      return make_error("`" + o.name + "` (imported by " + o.first_file +
                        "): only instances and functions can stay imports of a composition");
    auto desc = extern_desc(o.type, o.name);
    if (!desc)
      return make_error("`" + o.name + "` (imported by " + o.first_file + "): " + desc.error().message +
                        " (an import the composition keeps cannot refer to a type of an import a plug satisfies)");
    Writer import;
    import.u8(0x00);
    import.name(o.name);
    import.raw(*desc);
    section(kImportSection, {import.bytes()});
    o.sort = (*desc)[0];
    o.index = counter(o.sort)++;
    // Its resources and named types, for the imports after it.
    if (const auto* it = std::get_if<InstanceTypePtr>(&o.type)) {
      std::vector<std::vector<uint8_t>> aliases;
      for (const auto& e : (*it)->exports) {
        if (!std::holds_alternative<TypeBound>(e.type)) continue;
        aliases.push_back(alias_export(0x03, o.index, e.name));
        aliased_types_[{o.name, e.name}] = types_++;
      }
      if (!aliases.empty()) section(kAliasSection, aliases);
    }
    return {};
  }

  Result<std::vector<uint8_t>> encode() {
    out_.raw(kComponentPreamble);
    for (auto& o : outer_) STRATUS_TRY(import_outer(o));
    std::map<size_t, uint32_t> component_of;
    for (size_t p : order_) {
      out_.section(kComponentSection, parts_[p].input->bytes);
      component_of[p] = components_++;
    }
    std::map<size_t, uint32_t> instance_of;
    for (size_t p : order_) {
      const auto& imports = parts_[p].component->type->imports;
      std::vector<std::vector<uint8_t>> aliases;
      Writer inst;
      inst.u8(0x00);
      inst.u32(component_of[p]);
      inst.u32(static_cast<uint32_t>(imports.size()));
      for (size_t i = 0; i < imports.size(); ++i) {
        const auto& name = imports[i].name;
        uint8_t sort = 0;
        uint32_t index = 0;
        if (auto d = parts_[p].plugged_from[i]) {
          auto s = sort_of(*find_export(*parts_[*d].component, name));
          if (!s) return make_error("`" + name + "` of " + file(*d) + ": core modules cannot be plugged");
          sort = *s;
          aliases.push_back(alias_export(sort, instance_of[*d], name));
          index = counter(sort)++;
        } else {
          const auto& o =
              *std::find_if(outer_.begin(), outer_.end(), [&](const OuterImport& k) { return k.name == name; });
          sort = o.sort;
          index = o.index;
        }
        inst.name(name);
        inst.u8(sort);
        inst.u32(index);
      }
      if (!aliases.empty()) section(kAliasSection, aliases);
      section(kInstanceSection, {inst.bytes()});
      instance_of[p] = instances_++;
    }
    size_t main = parts_.size() - 1;
    const auto& exports = parts_[main].component->type->exports;
    std::vector<std::vector<uint8_t>> aliases;
    std::vector<std::vector<uint8_t>> exported;
    for (const auto& e : exports) {
      auto s = sort_of(e.type);
      if (!s) return make_error("`" + e.name + "` of " + main_.file + ": core modules cannot be exported");
      aliases.push_back(alias_export(*s, instance_of[main], e.name));
      Writer x;
      x.u8(0x00);
      x.name(e.name);
      x.u8(*s);
      x.u32(counter(*s)++);
      // Its type written here, so that the types it names are this
      // component's (its imports'); without one where that cannot be done
      // (the decoder then says whether the export is valid as it is).
      Result<std::vector<uint8_t>> desc = make_error("not an instance or function");
      if (std::holds_alternative<InstanceTypePtr>(e.type) || std::holds_alternative<FuncTypePtr>(e.type))
        desc = extern_desc(binary::substitute(e.type, equiv_), "");
      if (desc) {
        x.u8(0x01);
        x.raw(*desc);
      } else {
        x.u8(0x00);
      }
      exported.push_back(x.take());
    }
    if (!aliases.empty()) section(kAliasSection, aliases);
    if (!exported.empty()) section(kExportSection, exported);
    auto bytes = out_.take();
    // What we wrote must be a valid component; the decoder is the judge.
    auto check = decode_component(bytes);
    if (!check) return make_error("the composed component is not valid: " + check.error().message);
    return bytes;
  }

  const ComposeInput& main_;
  const std::vector<ComposeInput>& plugs_;
  std::vector<Part> parts_;  // the plugs, then the main component
  std::vector<size_t> order_;
  ResourceMap equiv_;
  std::vector<OuterImport> outer_;
  std::map<TypeKey, std::pair<std::string, std::string>> origins_;
  std::map<std::pair<std::string, std::string>, uint32_t> aliased_types_;
  Writer out_;
  uint32_t types_ = 0, instances_ = 0, funcs_ = 0, values_ = 0, components_ = 0;
};

}  // namespace

Result<std::vector<uint8_t>> compose(const ComposeInput& main, const std::vector<ComposeInput>& plugs) {
  return Composer(main, plugs).run();
}

}  // namespace stratus::component::compose

// The feature-gate rules of WIT.md ("Rules for feature gate usage") that
// can be checked on a package as written: an item inside a gated interface,
// world or resource is gated at least as strongly, and a package that uses
// gates has a version. (That items referring to gated items are gated too
// needs name resolution and is not checked here.)
#include <string>

#include "wit/parser.h"

namespace stratus::wit {
namespace {}  // namespace

// -1, 0, 1 as a < b, a == b, a > b (semver.org precedence; build ignored).
int compare_versions(const std::string& a, const std::string& b) {
  auto split = [](const std::string& v, std::string& pre) {
    std::string core = v.substr(0, v.find('+'));
    size_t dash = core.find('-');
    pre = dash == std::string::npos ? "" : core.substr(dash + 1);
    core = core.substr(0, dash);
    std::vector<unsigned long long> nums;
    for (size_t i = 0; i <= core.size();) {
      size_t j = std::min(core.find('.', i), core.size());
      nums.push_back(std::stoull(core.substr(i, j - i)));
      i = j + 1;
    }
    return nums;
  };
  std::string pa, pb;
  auto na = split(a, pa), nb = split(b, pb);
  if (na != nb) return na < nb ? -1 : 1;
  if (pa == pb) return 0;
  if (pa.empty()) return 1;  // a release follows its prereleases
  if (pb.empty()) return -1;
  return pa < pb ? -1 : 1;  // an approximation of identifier-wise precedence
}

std::optional<std::string> incompatible_reference(const Gates& referrer, const Gates& referenced) {
  if (referenced.unstable && !referrer.unstable)
    return "`@unstable(feature = " + *referenced.unstable + ")`, so what refers to it must be `@unstable` too";
  if (referenced.since && !referrer.unstable &&
      (!referrer.since || compare_versions(*referrer.since, *referenced.since) < 0))
    return "`@since(version = " + *referenced.since + ")`, so what refers to it must be gated at that version or later";
  return std::nullopt;
}

namespace {

class GateChecker {
 public:
  GateChecker(const ParsedPackage& p, const std::string& file) : package_(p), file_(file) {}

  Result<void> body(const PackageBody& b) {
    for (const auto& item : b.items) {
      if (const auto* i = std::get_if<InterfaceDecl>(&item)) {
        STRATUS_TRY(seen(i->attrs.gates, i->pos));
        STRATUS_TRY(items(i->items, i->attrs.gates, "interface `" + i->name + "`"));
      } else if (const auto* w = std::get_if<WorldDecl>(&item)) {
        STRATUS_TRY(seen(w->attrs.gates, w->pos));
        STRATUS_TRY(items(w->items, w->attrs.gates, "world `" + w->name + "`"));
      }
    }
    return {};
  }

 private:
  Error error(Pos pos, const std::string& message) const {
    return make_error(file_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message);
  }

  // Any gate needs the package's version.
  Result<void> seen(const Gates& g, Pos pos) {
    if (!g.empty() && !package_.name.version)
      return error(pos, "package `" + package_.name.to_string() +
                            "` uses feature gates, so it must have a version (`package ns:name@x.y.z;`)");
    return {};
  }

  // `inner` inside `outer` (named by `where`).
  Result<void> contained(const Gates& outer, const Gates& inner, Pos pos, const std::string& where) {
    STRATUS_TRY(seen(inner, pos));
    if (outer.unstable && !inner.unstable)
      return error(pos,
                   "an item of " + where + " (`@unstable(feature = " + *outer.unstable + ")`) must be `@unstable` too");
    if (outer.since) {
      if (!inner.since && !inner.unstable)
        return error(pos, "an item of " + where + " (`@since(version = " + *outer.since + ")`) must be gated too");
      if (inner.since && compare_versions(*inner.since, *outer.since) < 0)
        return error(pos, "an item of " + where + " cannot be `@since(version = " + *inner.since +
                              ")`, earlier than its container's " + *outer.since);
    }
    return {};
  }

  Result<void> type(const TypeDecl& t, const Gates& outer, const std::string& where) {
    STRATUS_TRY(contained(outer, t.attrs.gates, t.pos, where));
    for (const auto& f : t.funcs)
      STRATUS_TRY(contained(t.attrs.gates, f.attrs.gates, f.pos, "resource `" + t.name + "`"));
    return {};
  }

  template <class Items>
  Result<void> items(const Items& list, const Gates& outer, const std::string& where) {
    for (const auto& item : list) {
      STRATUS_TRY(std::visit(
          [&](const auto& x) -> Result<void> {
            using X = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<X, TypeDecl>) {
              return type(x, outer, where);
            } else if constexpr (std::is_same_v<X, ExternDecl>) {
              STRATUS_TRY(contained(outer, x.attrs.gates, x.pos, where));
              if (x.interface) return items(x.interface->items, x.attrs.gates, "interface `" + x.name + "`");
              return {};
            } else {
              return contained(outer, x.attrs.gates, x.pos, where);
            }
          },
          item));
    }
    return {};
  }

  const ParsedPackage& package_;
  const std::string& file_;
};

}  // namespace

namespace {

// WIT.md wants every item of a gated item gated too, but wit-parser takes an
// ungated item of a `@since` container as gated like its container, and
// WASI's own WIT relies on it (the `use`s, resource functions and world
// items of wasi:*@0.3.0-rc-2026-03-15). So do we: such items get their
// container's `@since` before the checks. `@unstable` is not inherited (an
// ungated item there stays an error: it would read as stable).
void inherit(Gates& item, const Gates& container) {
  if (item.empty() && container.since && !container.unstable) item.since = container.since;
}

template <class Items>
void inherit_items(Items& items, const Gates& container) {
  for (auto& item : items) {
    std::visit(
        [&](auto& x) {
          using X = std::decay_t<decltype(x)>;
          inherit(x.attrs.gates, container);
          if constexpr (std::is_same_v<X, TypeDecl>) {
            for (auto& f : x.funcs) inherit(f.attrs.gates, x.attrs.gates);
          } else if constexpr (std::is_same_v<X, ExternDecl>) {
            if (x.interface) inherit_items(x.interface->items, x.attrs.gates);
          }
        },
        item);
  }
}

}  // namespace

void inherit_gates(ParsedPackage& p) {
  for (auto& body : p.bodies)
    for (auto& item : body.items) {
      if (auto* i = std::get_if<InterfaceDecl>(&item)) inherit_items(i->items, i->attrs.gates);
      if (auto* w = std::get_if<WorldDecl>(&item)) inherit_items(w->items, w->attrs.gates);
    }
}

Result<void> check_gates(const ParsedPackage& p) {
  for (size_t i = 0; i < p.bodies.size(); ++i) {
    const std::string& file = i < p.files.size() ? p.files[i] : p.files.back();
    GateChecker c(p, file);
    STRATUS_TRY(c.body(p.bodies[i]));
  }
  return {};
}

}  // namespace stratus::wit

#include "workload/links.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace stratus::workload {
namespace {

struct Name {
  std::string_view interface;  // without the version
  std::string_view version;    // empty when unversioned
};

Name split(std::string_view name) {
  auto at = name.find('@');
  if (at == std::string_view::npos) return {name, {}};
  return {name.substr(0, at), name.substr(at + 1)};
}

// major, minor, patch; the pre-release and build parts must match exactly.
std::optional<std::array<uint64_t, 3>> numbers(std::string_view v, std::string_view& rest) {
  std::array<uint64_t, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out[i]);
    if (ec != std::errc() || end == v.data()) return std::nullopt;
    v.remove_prefix(static_cast<size_t>(end - v.data()));
    if (i < 2) {
      if (v.empty() || v.front() != '.') return std::nullopt;
      v.remove_prefix(1);
    }
  }
  rest = v;
  return out;
}

bool compatible(std::string_view have, std::string_view want) {
  if (have == want) return true;
  std::string_view have_rest, want_rest;
  auto a = numbers(have, have_rest), b = numbers(want, want_rest);
  if (!a || !b || !have_rest.empty() || !want_rest.empty()) return false;  // pre-releases: exact only
  if ((*a)[0] != (*b)[0]) return false;
  if ((*a)[0] == 0 && (*a)[1] != (*b)[1]) return false;
  return *a >= *b;  // the provider at least as new as what was built against
}

}  // namespace

bool satisfies(const std::string& have, const std::string& want) {
  Name h = split(have), w = split(want);
  if (h.interface != w.interface) return false;
  if (h.version.empty() || w.version.empty()) return h.version.empty() && w.version.empty();
  return compatible(h.version, w.version);
}

bool is_http_handler(const std::string& name) {
  return name.rfind("wasi:http/incoming-handler@0.2.", 0) == 0 || name.rfind("wasi:http/handler@0.3.", 0) == 0;
}

namespace {

bool exports_one(const LinkableComponent& c, const std::string& import) {
  return std::any_of(c.exports.begin(), c.exports.end(), [&](const std::string& e) { return satisfies(e, import); });
}

std::string names(const std::vector<LinkableComponent>& components, const std::vector<size_t>& which,
                  const char* separator) {
  std::string out;
  for (size_t k : which) out += (out.empty() ? "" : separator) + components[k].name;
  return out;
}

// The HTTP chains (links.h): each middleware's handler import goes to the
// next member after it exporting a compatible handler. `next[i]` is the
// link of middleware i to that member, `linked_to[j]` whether a middleware
// links to j.
struct Chains {
  std::vector<std::optional<Link>> next;
  std::vector<bool> linked_to;

  explicit Chains(size_t n) : next(n), linked_to(n, false) {}

  bool middleware(const std::vector<LinkableComponent>& components, size_t i, const std::string& import) const {
    return is_http_handler(import) && exports_one(components[i], import);
  }

  // The members exporting a handler satisfying `import` that no middleware
  // links to.
  std::vector<size_t> heads(const std::vector<LinkableComponent>& components, const std::string& import) const {
    std::vector<size_t> out;
    for (size_t j = 0; j < components.size(); ++j)
      if (!linked_to[j] && exports_one(components[j], import)) out.push_back(j);
    return out;
  }

  // The chain from its head down to middleware i.
  std::vector<size_t> path_to(size_t i) const {
    std::vector<size_t> path = {i};
    for (bool found = true; found;) {
      found = false;
      for (size_t k = 0; k < next.size(); ++k)
        if (next[k] && next[k]->provider == path.front()) {
          path.insert(path.begin(), k);
          found = true;
          break;
        }
    }
    return path;
  }
};

}  // namespace

Result<std::vector<std::vector<Link>>> plan_links(const std::vector<LinkableComponent>& components,
                                                  const std::function<bool(const std::string&)>& host_provides) {
  std::vector<std::vector<Link>> links(components.size());
  std::vector<std::string> problems;

  Chains chains(components.size());
  std::vector<std::pair<size_t, std::string>> unterminated;  // a middleware and its handler import
  for (size_t i = 0; i < components.size(); ++i) {
    for (const auto& import : components[i].imports) {
      if (!chains.middleware(components, i, import) || chains.next[i]) continue;
      for (size_t j = i + 1; j < components.size() && !chains.next[i]; ++j)
        for (const auto& e : components[j].exports)
          if (satisfies(e, import)) {
            chains.next[i] = Link{import, j, e, /*chain=*/true};
            chains.linked_to[j] = true;
            break;
          }
      if (!chains.next[i]) unterminated.emplace_back(i, import);
    }
  }
  for (const auto& [i, import] : unterminated)
    problems.push_back("wit_world: the HTTP chain " + names(components, chains.path_to(i), " -> ") + " is circular: " +
                       components[i].name + " imports " + import + " and no member after it exports it");
  // Once for each handler and its heads, not for each middleware of a chain.
  std::set<std::pair<std::string, std::vector<size_t>>> ambiguous;
  for (size_t i = 0; i < components.size(); ++i) {
    if (!chains.next[i]) continue;
    auto heads = chains.heads(components, chains.next[i]->import_name);
    if (heads.size() < 2 || !ambiguous.emplace(chains.next[i]->import_name, heads).second) continue;
    std::string why = "wit_world: the HTTP chain " + names(components, chains.path_to(i), " -> ") + " -> " +
                      components[chains.next[i]->provider].name + " is ambiguous: several members export " +
                      chains.next[i]->import_name + " as the head of a chain (" + names(components, heads, ", ") +
                      "), so which requests pass " + components[i].name + " is unclear";
    problems.push_back(std::move(why));
  }

  for (size_t i = 0; i < components.size(); ++i) {
    const auto& c = components[i];
    for (const auto& import : c.imports) {
      if (chains.middleware(components, i, import)) {
        if (chains.next[i] && chains.next[i]->import_name == import) links[i].push_back(*chains.next[i]);
        continue;
      }
      if (is_http_handler(import)) {
        // Another member's handler: the head of its chain, when one exports
        // it (else the host's, as any WASI import).
        auto heads = chains.heads(components, import);
        heads.erase(std::remove(heads.begin(), heads.end(), i), heads.end());
        if (heads.size() == 1) {
          for (const auto& e : components[heads.front()].exports)
            if (satisfies(e, import)) {
              links[i].push_back(Link{import, heads.front(), e});
              break;
            }
          continue;
        }
        if (heads.size() > 1) {
          problems.push_back(c.where + " (" + c.name + "): imports " + import + ", which several components export (" +
                             names(components, heads, ", ") + "): ambiguous");
          continue;
        }
      }
      if (host_provides(import)) continue;
      std::vector<Link> found;
      for (size_t j = 0; j < components.size(); ++j) {
        if (j == i) continue;
        for (const auto& e : components[j].exports)
          if (satisfies(e, import)) found.push_back(Link{import, j, e});
      }
      if (found.empty()) {
        problems.push_back(c.where + " (" + c.name + "): imports " + import +
                           ", which neither the host nor another component of the workload provides"
                           " (host interfaces are asked for in wit_world.host_interfaces)");
      } else if (found.size() > 1) {
        std::string who;
        for (const auto& f : found) who += (who.empty() ? "" : ", ") + components[f.provider].name;
        problems.push_back(c.where + " (" + c.name + "): imports " + import + ", which several components export (" +
                           who + "): ambiguous");
      } else {
        links[i].push_back(found.front());
      }
    }
  }
  if (problems.empty()) {
    // A cycle would need each instance made before the other.
    enum Mark { kNone, kActive, kDone };
    std::vector<Mark> mark(components.size(), kNone);
    std::function<bool(size_t, std::vector<size_t>&)> visit = [&](size_t i, std::vector<size_t>& path) {
      if (mark[i] == kDone) return false;
      path.push_back(i);
      if (mark[i] == kActive) return true;
      mark[i] = kActive;
      for (const auto& l : links[i])
        if (visit(l.provider, path)) return true;
      mark[i] = kDone;
      path.pop_back();
      return false;
    };
    for (size_t i = 0; i < components.size() && problems.empty(); ++i) {
      std::vector<size_t> path;
      if (visit(i, path)) {
        std::string cycle;
        auto start = std::find(path.begin(), path.end(), path.back());
        for (auto it = start; it != path.end(); ++it) cycle += (cycle.empty() ? "" : " -> ") + components[*it].name;
        problems.push_back("the components link in a cycle: " + cycle);
      }
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return make_error(message);
  }
  return links;
}

std::vector<size_t> provider_order(const std::vector<std::vector<Link>>& links, size_t i) {
  std::vector<size_t> order;
  std::vector<bool> seen(links.size(), false);
  std::function<void(size_t)> visit = [&](size_t k) {
    for (const auto& l : links[k]) {
      if (seen[l.provider]) continue;
      seen[l.provider] = true;
      visit(l.provider);
      order.push_back(l.provider);
    }
  };
  visit(i);
  return order;
}

}  // namespace stratus::workload

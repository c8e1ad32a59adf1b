// Extern names and labels (Explainer.md, "Import and Export Definitions" and
// "Name Uniqueness"; Binary.md, nameattributes).
#include "component/binary/names.h"

#include <set>

namespace stratus::component::binary {
namespace {

bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// `words`: first-word ('-' word)*, lowercase only.
bool is_words(std::string_view s) {
  if (s.empty() || !lower(s[0])) return false;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = s.find('-', i);
    if (end == std::string_view::npos) end = s.size();
    if (end == i) return false;
    for (size_t k = i; k < end; ++k)
      if (!lower(s[k]) && !digit(s[k])) return false;
    i = end + 1;
    if (end + 1 == s.size()) return false;  // trailing '-'
  }
  return true;
}

// A dot-separated list of semver identifiers; numeric ones without leading
// zeros when `numeric_rule`.
std::string check_identifiers(std::string_view s, bool numeric_rule) {
  if (s.empty()) return "empty identifier segment";
  size_t i = 0;
  for (;;) {
    size_t end = s.find('.', i);
    if (end == std::string_view::npos) end = s.size();
    auto part = s.substr(i, end - i);
    if (part.empty()) return "empty identifier segment";
    bool all_digits = true;
    for (char c : part) {
      if (!lower(c) && !upper(c) && !digit(c) && c != '-') return std::string("unexpected character '") + c + "'";
      if (!digit(c)) all_digits = false;
    }
    if (numeric_rule && all_digits && part.size() > 1 && part[0] == '0') return "invalid leading zero";
    if (end == s.size()) return "";
    i = end + 1;
  }
}

std::string check_number(std::string_view s) {
  if (s.empty()) return "unexpected end of input";
  for (char c : s)
    if (!digit(c)) return std::string("unexpected character '") + c + "'";
  if (s.size() > 1 && s[0] == '0') return "invalid leading zero";
  return "";
}

// `valid semver` (semver.org) or a canonversion; empty when valid.
std::string check_version(std::string_view v) {
  if (v.empty()) return "empty string";
  size_t plus = v.find('+');
  std::string_view core_pre = v.substr(0, plus);
  if (plus != std::string_view::npos) {
    auto e = check_identifiers(v.substr(plus + 1), false);
    if (!e.empty()) return e;
  }
  size_t dash = core_pre.find('-');
  std::string_view core = core_pre.substr(0, dash);
  if (dash != std::string_view::npos) {
    auto e = check_identifiers(core_pre.substr(dash + 1), true);
    if (!e.empty()) return e;
  }
  std::string_view parts[3];
  size_t n = 0, i = 0;
  for (;;) {
    size_t end = core.find('.', i);
    if (end == std::string_view::npos) end = core.size();
    if (n == 3) return "unexpected character '.'";
    parts[n++] = core.substr(i, end - i);
    auto e = check_number(parts[n - 1]);
    if (!e.empty()) return e;
    if (end == core.size()) break;
    i = end + 1;
  }
  if (n == 3) return "";
  // A canonversion: 1, 0.1, 0.0.1 (no pre-release or build).
  if (dash != std::string_view::npos || plus != std::string_view::npos) return "unexpected end of input";
  if (n == 1 && parts[0] != "0") return "";
  if (n == 2 && parts[0] == "0" && parts[1] != "0") return "";
  return "unexpected end of input";
}

Result<ParsedName> interface_name(std::string_view name) {
  auto bad = [&](const std::string& why) -> Error {
    return make_error("`" + std::string(name) + "` is not a valid extern name: " + why);
  };
  size_t colon = name.find(':');
  auto ns = name.substr(0, colon);
  if (!is_words(ns)) return make_error("`" + std::string(ns) + "` is not in kebab case");
  auto rest = name.substr(colon + 1);
  size_t slash = rest.find('/');
  auto pkg = rest.substr(0, slash == std::string_view::npos ? rest.size() : slash);
  if (pkg.find(':') != std::string_view::npos) return bad("expected `/` after package name");
  if (!is_words(pkg)) return make_error("`" + std::string(pkg) + "` is not in kebab case");
  if (slash == std::string_view::npos) return bad("expected `/` after package name");
  auto iface = rest.substr(slash + 1);
  size_t at = iface.find('@');
  auto label = iface.substr(0, at);
  if (size_t extra = label.find('/'); extra != std::string_view::npos)
    return bad("trailing characters found: `" + std::string(label.substr(extra)) + "`");
  if (!is_label(label)) return make_error("`" + std::string(label) + "` is not in kebab case");
  if (at != std::string_view::npos) {
    auto e = check_version(iface.substr(at + 1));
    if (!e.empty()) return bad(e);
  }
  return ParsedName{NameKind::Interface, "", lowercase(name)};
}

}  // namespace

bool is_label(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  bool first = true;
  while (i <= s.size()) {
    size_t end = s.find('-', i);
    if (end == std::string_view::npos) end = s.size();
    auto frag = s.substr(i, end - i);
    if (frag.empty()) return false;
    if (first && !lower(frag[0]) && !upper(frag[0])) return false;
    // A fragment is all lowercase-or-digits (word) or all uppercase-or-digits
    // (acronym); a fragment of only digits is either.
    bool any_lower = false, any_upper = false;
    for (char c : frag) {
      if (lower(c)) {
        any_lower = true;
      } else if (upper(c)) {
        any_upper = true;
      } else if (!digit(c)) {
        return false;
      }
    }
    if (any_lower && any_upper) return false;
    first = false;
    if (end == s.size()) return true;
    i = end + 1;
  }
  return false;
}

Result<ParsedName> parse_extern_name(std::string_view name) {
  auto not_kebab = [&](std::string_view l) { return make_error("`" + std::string(l) + "` is not in kebab case"); };
  auto annotated = [&](std::string_view prefix, NameKind kind) -> Result<ParsedName> {
    auto rest = name.substr(prefix.size());
    if (kind == NameKind::Constructor) {
      if (!is_label(rest)) return not_kebab(rest);
      return ParsedName{kind, std::string(rest), "[constructor]" + lowercase(rest)};
    }
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return make_error("failed to find `.` character in `" + std::string(name) + "`");
    auto res = rest.substr(0, dot), field = rest.substr(dot + 1);
    if (!is_label(res)) return not_kebab(res);
    if (!is_label(field)) return not_kebab(field);
    auto lres = lowercase(res), lfield = lowercase(field);
    return ParsedName{kind, std::string(res), lres == lfield ? lres : lres + "." + lfield};
  };
  if (name.rfind("[constructor]", 0) == 0) return annotated("[constructor]", NameKind::Constructor);
  if (name.rfind("[method]", 0) == 0) return annotated("[method]", NameKind::Method);
  if (name.rfind("[static]", 0) == 0) return annotated("[static]", NameKind::Static);
  if (name.find(':') != std::string_view::npos) return interface_name(name);
  if (name.find('/') != std::string_view::npos || name.find('@') != std::string_view::npos ||
      name.find('[') != std::string_view::npos)
    return make_error("`" + std::string(name) + "` is not a valid extern name");
  if (!is_label(name)) return not_kebab(name);
  return ParsedName{NameKind::Label, "", lowercase(name)};
}

Result<ExternName> read_extern_name(Reader& r) {
  auto kind = r.u8();
  if (!kind.ok()) return std::move(kind).error();
  if (*kind > 0x02) return r.error("invalid extern name kind 0x" + std::to_string(*kind));
  ExternName out;
  out.offset = r.offset();
  auto name = r.name();
  if (!name.ok()) return std::move(name).error();
  out.name = std::move(*name);
  auto parsed = parse_extern_name(out.name);
  if (!parsed.ok()) return Reader::error_at(out.offset, parsed.error().message);
  out.parsed = std::move(*parsed);
  if (*kind == 0x02) {
    auto n = r.count(2);
    if (!n.ok()) return std::move(n).error();
    std::set<uint8_t> seen;
    for (uint32_t i = 0; i < *n; ++i) {
      auto a = r.u8();
      if (!a.ok()) return std::move(a).error();
      if (*a > 0x02) return r.error("invalid name attribute 0x" + std::to_string(*a));
      if (!seen.insert(*a).second) return r.error("name attribute repeated");
      size_t at = r.offset();
      auto v = r.name();
      if (!v.ok()) return std::move(v).error();
      if (*a == 0x00) {
        if (v->empty()) return Reader::error_at(at, "`` is not a valid name for `implements`");
        auto in = parse_extern_name(*v);
        if (!in.ok()) return Reader::error_at(at, "`" + *v + "` is not a valid name: " + in.error().message);
        if (in->kind != NameKind::Interface)
          return Reader::error_at(at, "`implements` value `" + *v + "` must be an interface name");
        out.implements = *v;
      }
    }
    if (out.implements && out.parsed.kind != NameKind::Label)
      return Reader::error_at(out.offset, "name `" + out.name + "` is not valid with `implements`");
  }
  return out;
}

Result<std::string> read_label(Reader& r, std::set<std::string>& seen, const char* what) {
  size_t at = r.offset();
  auto l = r.name();
  if (!l.ok()) return l;
  if (!is_label(*l)) return Reader::error_at(at, std::string(what) + " name `" + *l + "` is not in kebab case");
  if (!seen.insert(lowercase(*l)).second)
    return Reader::error_at(at, std::string(what) + " name `" + *l + "` conflicts with a previous " + what + " name");
  return l;
}

}  // namespace stratus::component::binary

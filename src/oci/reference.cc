#include "oci/reference.h"

#include <algorithm>
#include <cctype>

namespace stratus::oci {
namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A path component: [a-z0-9]+ joined by `.`, `_`, `__` or runs of `-`.
bool valid_component(std::string_view s) {
  if (s.empty() || !lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (lower_alnum(c) || c == '-') continue;
    if (c == '.' || c == '_') {
      if (c == '_' && i + 1 < s.size() && s[i + 1] == '_') ++i;  // `__`
      if (i + 1 >= s.size() || !lower_alnum(s[i + 1])) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool valid_tag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  auto word = [](char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!word(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

// host[:port], host a DNS name or an IPv4 address (or [v6]).
bool valid_registry(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  std::string_view host = s, port;
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = s.substr(1, close - 1);
    auto rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
        }))
      return false;
  } else {
    auto colon = s.find(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty()) return false;
    for (char c : host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
      if (!ok) return false;
    }
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    unsigned long n = std::stoul(std::string(port));
    if (n == 0 || n > 65535) return false;
  }
  return true;
}

bool names_registry(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos || first == "localhost";
}

}  // namespace

bool valid_digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  return std::all_of(digest.begin() + 7, digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string Reference::api_host() const { return registry == "docker.io" ? "registry-1.docker.io" : registry; }

std::string Reference::text() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Result<Reference> parse_reference(std::string_view text) {
  std::string_view rest = text;
  auto bad = [&](const std::string& why) {
    return make_error("image reference '" + std::string(text.substr(0, 300)) + "': " + why);
  };
  if (rest.rfind("oci://", 0) == 0) rest.remove_prefix(6);
  if (rest.empty()) return bad("empty");
  if (rest.size() > 1024) return bad("longer than 1024 characters");
  if (rest.find("://") != std::string_view::npos) return bad("a URL scheme other than oci:// is not a reference");
  Reference ref;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!valid_digest(ref.digest)) {
      if (ref.digest.rfind("sha256:", 0) != 0) return bad("only sha256 digests are supported ('" + ref.digest + "')");
      return bad("digest '" + ref.digest + "' is not sha256: and 64 lower-case hex digits");
    }
  }
  // A tag is after the last `:` that follows the last `/` (a registry's
  // port comes before a `/`).
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) return bad("tag '" + ref.tag + "' is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  }
  std::string_view repo = rest;
  auto first_slash = rest.find('/');
  if (first_slash != std::string_view::npos && names_registry(rest.substr(0, first_slash))) {
    ref.registry = std::string(rest.substr(0, first_slash));
    repo = rest.substr(first_slash + 1);
    if (!valid_registry(ref.registry)) return bad("registry '" + ref.registry + "' is not HOST[:PORT]");
    if (ref.registry == "index.docker.io" || ref.registry == "registry-1.docker.io") ref.registry = "docker.io";
  } else {
    ref.registry = "docker.io";
  }
  if (repo.empty()) return bad("no repository");
  if (repo.size() > 255) return bad("repository longer than 255 characters");
  size_t start = 0;
  for (;;) {
    auto end = repo.find('/', start);
    auto part = repo.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!valid_component(part))
      return bad("repository component '" + std::string(part) +
                 "' must be lower-case letters and digits, joined by '.', '_', '__' or '-'");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(repo);
  if (ref.registry == "docker.io" && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

bool is_oci_reference(std::string_view image) {
  if (image.rfind("oci://", 0) == 0) return true;
  if (image.find("://") != std::string_view::npos) return false;
  if (image.size() >= 5 && image.substr(image.size() - 5) == ".wasm") return false;
  if (image.find("@sha256:") != std::string_view::npos) return true;
  auto slash = image.find('/');
  return slash != std::string_view::npos && slash > 0 && names_registry(image.substr(0, slash)) && image.front() != '.';
}

}  // namespace stratus::oci

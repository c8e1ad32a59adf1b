#include "oci/auth.h"

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace stratus::oci {
namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += kBase64[n & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return std::nullopt;  // data after padding
    auto v = kBase64.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

Result<Challenge> parse_www_authenticate(std::string_view header) {
  auto bad = [&](const std::string& why) {
    return make_error("WWW-Authenticate '" + std::string(header.substr(0, 200)) + "': " + why);
  };
  if (header.size() > 8192) return bad("longer than 8 KiB");
  size_t i = 0;
  auto skip_space = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  skip_space();
  size_t start = i;
  while (i < header.size() && token_char(header[i])) ++i;
  if (i == start) return bad("no scheme");
  Challenge c;
  c.scheme = lower(header.substr(start, i - start));
  for (;;) {
    skip_space();
    if (i >= header.size()) break;
    size_t key_start = i;
    while (i < header.size() && token_char(header[i])) ++i;
    if (i == key_start) return bad("expected a parameter name at offset " + std::to_string(i));
    std::string key = lower(header.substr(key_start, i - key_start));
    skip_space();
    if (i >= header.size() || header[i] != '=') {
      // A second challenge ("Bearer ..., Basic realm=...") or a token68: the
      // first challenge ends here.
      break;
    }
    ++i;
    skip_space();
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      bool closed = false;
      while (i < header.size()) {
        char ch = header[i++];
        if (ch == '\\' && i < header.size()) {
          value += header[i++];
        } else if (ch == '"') {
          closed = true;
          break;
        } else {
          value += ch;
        }
      }
      if (!closed) return bad("unterminated quoted value of '" + key + "'");
    } else {
      size_t v_start = i;
      while (i < header.size() && token_char(header[i])) ++i;
      value = std::string(header.substr(v_start, i - v_start));
    }
    c.params[key] = std::move(value);
    skip_space();
    if (i < header.size()) {
      if (header[i] != ',') return bad("expected ',' at offset " + std::to_string(i));
      ++i;
    }
  }
  return c;
}

std::filesystem::path docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0')
    return std::filesystem::path(dir) / "config.json";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::filesystem::path(home) / ".docker" / "config.json";
  return {};
}

Result<std::optional<Credentials>> credentials_from_docker_config(std::string_view config_json,
                                                                  const std::string& registry) {
  auto doc = nlohmann::json::parse(config_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("docker config: not a JSON object");
  auto auths = doc.find("auths");
  if (auths == doc.end()) return std::optional<Credentials>{};
  if (!auths->is_object()) return make_error("docker config: `auths` is not an object");
  std::vector<std::string> keys = {registry, "https://" + registry, "http://" + registry};
  if (registry == "docker.io")
    keys.insert(keys.end(), {"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"});
  for (const auto& key : keys) {
    auto entry = auths->find(key);
    if (entry == auths->end()) continue;
    std::string where = "docker config: auths." + key;
    if (!entry->is_object()) return make_error(where + ": not an object");
    auto auth = entry->find("auth");
    if (auth != entry->end() && auth->is_string() && !auth->get<std::string>().empty()) {
      auto decoded = base64_decode(auth->get<std::string>());
      if (!decoded) return make_error(where + ".auth: not base64");
      auto colon = decoded->find(':');
      if (colon == std::string::npos) return make_error(where + ".auth: not base64 of user:password");
      return std::optional<Credentials>{Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)}};
    }
    auto user = entry->find("username");
    auto pass = entry->find("password");
    if (user != entry->end() && pass != entry->end() && user->is_string() && pass->is_string())
      return std::optional<Credentials>{Credentials{user->get<std::string>(), pass->get<std::string>()}};
  }
  return std::optional<Credentials>{};
}

}  // namespace stratus::oci

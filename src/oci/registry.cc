#include "oci/registry.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "support/file.h"
#include "support/hash.h"

namespace stratus::oci {
namespace {

constexpr int kMaxRedirects = 5;

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string sha256_of(std::string_view bytes) {
  return "sha256:" + sha256_hex({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

// A registry's error body ({"errors":[{"code","message"}]}) in a few words.
std::string error_text(const HttpResponse& r) {
  std::string text = "HTTP " + std::to_string(r.status);
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array()) {
    for (const auto& e : doc["errors"]) {
      if (!e.is_object()) continue;
      std::string code = e.value("code", std::string());
      std::string message = e.value("message", std::string());
      text += std::string(": ") + code + (message.empty() ? "" : " (" + message.substr(0, 200) + ")");
      break;
    }
  }
  return text;
}

bool is_loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

}  // namespace

Registry::Registry(Reference ref, RegistryOptions options, bool push)
    : ref_(std::move(ref)), options_(std::move(options)), push_(push) {
  const auto& insecure = options_.insecure_registries;
  tls_ = std::find(insecure.begin(), insecure.end(), ref_.registry) == insecure.end();
}

Error Registry::fail(const std::string& what) const { return make_error("image " + ref_.text() + ": " + what); }

Url Registry::url(const std::string& target) const {
  auto u = parse_url(std::string(tls_ ? "https://" : "http://") + ref_.api_host() + target);
  return u ? *u : Url{};
}

Result<std::optional<Credentials>> Registry::credentials() {
  if (credentials_) return *credentials_;
  if (options_.credentials) {
    credentials_ = options_.credentials;
    return *credentials_;
  }
  std::optional<Credentials> found;
  auto path = docker_config_path();
  std::error_code ec;
  if (!path.empty() && std::filesystem::is_regular_file(path, ec)) {
    auto text = read_file(path);
    if (!text) return std::move(text).error();
    if (text->size() > (1 << 20)) return make_error(path.string() + ": larger than 1 MiB");
    auto c = credentials_from_docker_config({reinterpret_cast<const char*>(text->data()), text->size()}, ref_.registry);
    if (!c) return std::move(c).error().context(path.string());
    found = *c;
  }
  credentials_ = found;
  return found;
}

Result<void> Registry::authenticate(const HttpResponse& unauthorized) {
  auto header = unauthorized.header("www-authenticate");
  if (header.empty()) return fail("the registry answered 401 without a WWW-Authenticate challenge");
  auto challenge = parse_www_authenticate(header);
  if (!challenge) return fail(challenge.error().message);
  auto creds = credentials();
  if (!creds) return fail(creds.error().message);
  auto basic = [&](const Credentials& c) { return "Basic " + base64_encode(c.username + ":" + c.password); };
  if (challenge->scheme == "basic") {
    if (!*creds)
      return fail("the registry asks for a username and password (give image_pull_secret, or log in in " +
                  docker_config_path().string() + ")");
    authorization_ = basic(**creds);
    return {};
  }
  if (challenge->scheme != "bearer") return fail("unsupported authentication scheme '" + challenge->scheme + "'");
  auto realm = challenge->params.find("realm");
  if (realm == challenge->params.end()) return fail("the Bearer challenge has no realm");
  auto realm_url = parse_url(realm->second);
  if (!realm_url) return fail("token realm: " + realm_url.error().message);
  HttpRequest token;
  token.url = *realm_url;
  token.timeout = options_.timeout;
  token.max_body = 1 << 20;
  std::string query;
  auto add = [&](const std::string& key, const std::string& value) {
    query += (query.empty() ? "" : "&") + key + "=" + percent_encode(value);
  };
  if (auto s = challenge->params.find("service"); s != challenge->params.end()) add("service", s->second);
  std::string scope = "repository:" + ref_.repository + (push_ ? ":pull,push" : ":pull");
  if (auto s = challenge->params.find("scope"); s != challenge->params.end() && !push_) scope = s->second;
  add("scope", scope);
  token.url.target += (token.url.target.find('?') == std::string::npos ? "?" : "&") + query;
  if (*creds) token.headers.emplace_back("Authorization", basic(**creds));
  auto r = http_exchange(token);
  if (!r) return fail("token: " + r.error().message);
  if (r->status == 401 || r->status == 403)
    return fail(std::string("the token server refused ") +
                (*creds ? "the credentials (wrong username or password?)" : "anonymous access") + " (" +
                error_text(*r) + ")");
  if (r->status != 200) return fail("token: " + error_text(*r));
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  std::string value;
  if (doc.is_object()) {
    if (auto t = doc.find("token"); t != doc.end() && t->is_string()) value = t->get<std::string>();
    if (auto t = doc.find("access_token"); value.empty() && t != doc.end() && t->is_string())
      value = t->get<std::string>();
  }
  if (value.empty()) return fail("token: the answer has no `token`");
  authorization_ = "Bearer " + value;
  return {};
}

Result<HttpResponse> Registry::send(HttpRequest request) {
  request.timeout = std::max(request.timeout, options_.timeout);
  std::string registry_authority = request.url.authority();
  bool retried = false;
  for (int hop = 0;; ++hop) {
    HttpRequest attempt = request;
    if (!authorization_.empty() && attempt.url.authority() == registry_authority)
      attempt.headers.emplace_back("Authorization", authorization_);
    auto r = http_exchange(attempt);
    if (!r) {
      std::string hint;
      if (attempt.url.tls && is_loopback(attempt.url.host))
        hint = " (a plain-HTTP registry must be named with --insecure-registry " + ref_.registry + ")";
      return fail(r.error().message + hint);
    }
    if (r->status == 401 && !retried && attempt.url.authority() == registry_authority) {
      retried = true;
      STRATUS_TRY(authenticate(*r));
      --hop;
      continue;
    }
    if (r->status == 401) {
      return fail("the registry refused the credentials (" + error_text(*r) +
                  "; wrong username or password, or no access to " + ref_.repository + ")");
    }
    if (r->status >= 300 && r->status < 400 && r->status != 304 && request.method == "GET") {
      if (hop >= kMaxRedirects) return fail("more than 5 redirects");
      std::string location = r->header("location");
      if (location.empty()) return fail("a redirect without a Location");
      if (location.front() == '/') {
        request.url.target = location;
      } else {
        auto next = parse_url(location);
        if (!next) return fail("redirect: " + next.error().message);
        if (request.url.tls && !next->tls) return fail("a redirect from HTTPS to plain HTTP (" + location + ")");
        request.url = *next;
      }
      continue;
    }
    return r;
  }
}

Result<Registry::FetchedManifest> Registry::get_manifest(const std::string& tag_or_digest) {
  HttpRequest req;
  req.url = url("/v2/" + ref_.repository + "/manifests/" + tag_or_digest);
  req.headers.emplace_back("Accept", std::string(kOciManifest) + ", " + std::string(kOciIndex) + ", " +
                                         std::string(kDockerManifest) + ", " + std::string(kDockerManifestList));
  req.max_body = kMaxManifestBytes;
  auto r = send(req);
  if (!r) return std::move(r).error();
  if (r->status == 404) return fail("manifest " + tag_or_digest + " not found (" + error_text(*r) + ")");
  if (r->status != 200) return fail("manifest " + tag_or_digest + ": " + error_text(*r));
  FetchedManifest m;
  m.digest = sha256_of(r->body);
  if (valid_digest(tag_or_digest) && m.digest != tag_or_digest)
    return fail("the manifest's digest is " + m.digest + ", not the " + tag_or_digest + " asked for");
  std::string claimed = r->header("docker-content-digest");
  if (!claimed.empty() && claimed.rfind("sha256:", 0) == 0 && claimed != m.digest)
    return fail("the manifest's digest is " + m.digest + ", but the registry says " + claimed);
  m.content_type = r->header("content-type");
  m.body = std::move(r->body);
  return m;
}

Result<std::string> Registry::get_blob(const Descriptor& d) {
  if (d.size > kMaxLayerBytes)
    return fail("blob " + d.digest + " is " + std::to_string(d.size) + " bytes, past the limit");
  HttpRequest req;
  req.url = url("/v2/" + ref_.repository + "/blobs/" + d.digest);
  req.max_body = std::max<uint64_t>(d.size, 1);
  // A large layer on a slow link: a second more per MiB.
  req.timeout = std::chrono::seconds(60 + static_cast<int64_t>(d.size >> 20));
  auto r = send(req);
  if (!r) return std::move(r).error();
  if (r->status != 200) return fail("blob " + d.digest + ": " + error_text(*r));
  if (r->body.size() != d.size)
    return fail("blob " + d.digest + " is " + std::to_string(r->body.size()) + " bytes, the manifest says " +
                std::to_string(d.size));
  auto digest = sha256_of(r->body);
  if (digest != d.digest)
    return fail("blob " + d.digest + " does not match its digest (its content hashes to " + digest + ")");
  return std::move(r->body);
}

Result<void> Registry::push_blob(std::string_view bytes, const std::string& digest) {
  HttpRequest head;
  head.method = "HEAD";
  head.url = url("/v2/" + ref_.repository + "/blobs/" + digest);
  auto exists = send(head);
  if (!exists) return std::move(exists).error();
  if (exists->status == 200) return {};
  HttpRequest start;
  start.method = "POST";
  start.url = url("/v2/" + ref_.repository + "/blobs/uploads/");
  auto r = send(start);
  if (!r) return std::move(r).error();
  if (r->status != 202) return fail("starting an upload: " + error_text(*r));
  std::string location = r->header("location");
  if (location.empty()) return fail("the upload answer has no Location");
  HttpRequest put;
  put.method = "PUT";
  if (location.front() == '/') {
    put.url = url(location);
  } else {
    auto u = parse_url(location);
    if (!u) return fail("upload Location: " + u.error().message);
    put.url = *u;
  }
  put.url.target +=
      (put.url.target.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + percent_encode(digest);
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  put.body = std::string(bytes);
  auto done = send(put);
  if (!done) return std::move(done).error();
  if (done->status != 201) return fail("uploading " + digest + ": " + error_text(*done));
  return {};
}

Result<std::string> Registry::put_manifest(const std::string& tag, const std::string& body) {
  HttpRequest put;
  put.method = "PUT";
  put.url = url("/v2/" + ref_.repository + "/manifests/" + tag);
  put.headers.emplace_back("Content-Type", std::string(kOciManifest));
  put.body = body;
  auto r = send(put);
  if (!r) return std::move(r).error();
  if (r->status != 201) return fail("putting the manifest: " + error_text(*r));
  return sha256_of(body);
}

}  // namespace stratus::oci

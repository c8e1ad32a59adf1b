// The image store (src/oci) against a real registry, Debian's
// docker-registry, started here on loopback: push, pull by tag and by
// digest, the pull policies and the cache, a tampered blob, Basic auth
// (credentials from a docker config.json and from a pull secret, a wrong
// password) and the Bearer token flow with a token server run here.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "oci/auth.h"
#include "oci/image_store.h"
#include "support/file.h"
#include "support/hash.h"
#include "tests/oci/registry_fixture.h"

namespace stratus::oci {
namespace {

using testing::RegistryAuth;
using testing::TestRegistry;

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::string file_text(const std::filesystem::path& p) {
  auto b = read_file(p);
  return b ? std::string(b->begin(), b->end()) : std::string("<unreadable>");
}

// DOCKER_CONFIG set for the test's lifetime.
class DockerConfig {
 public:
  explicit DockerConfig(const std::string& json) : dir_("stratus-oci-docker") {
    dir_.write("config.json", json);
    const char* old = std::getenv("DOCKER_CONFIG");
    if (old != nullptr) old_ = old;
    ::setenv("DOCKER_CONFIG", dir_.path().c_str(), 1);
  }
  ~DockerConfig() {
    if (old_) {
      ::setenv("DOCKER_CONFIG", old_->c_str(), 1);
    } else {
      ::unsetenv("DOCKER_CONFIG");
    }
  }

 private:
  test_support::TempDir dir_;
  std::optional<std::string> old_;
};

class OciRegistry : public ::testing::Test {
 protected:
  // No docker config.json of the machine's: each test says its own.
  void SetUp() override { empty_config_ = std::make_unique<DockerConfig>("{}"); }
  test_support::TempDir cache_{"stratus-oci-cache"};
  std::unique_ptr<DockerConfig> empty_config_;
};

TEST_F(OciRegistry, PushThenPullByTagAndByDigest) {
  TestRegistry registry;
  ASSERT_TRUE(registry.running()) << registry.log();
  ImageStore store(cache_.path(), {registry.host()});
  std::string image = registry.host() + "/apps/hello:v1";
  auto digest = store.push(image, bytes_of("component bytes"), std::nullopt);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_TRUE(valid_digest(*digest)) << *digest;

  auto file = store.pull(image, {});
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file_text(*file), "component bytes");
  EXPECT_EQ(file->filename().string(), sha256_hex(bytes_of("component bytes")));

  test_support::TempDir other("stratus-oci-cache2");
  ImageStore fresh(other.path(), {registry.host()});
  auto by_digest = fresh.pull(registry.host() + "/apps/hello@" + *digest, {});
  ASSERT_TRUE(by_digest) << by_digest.error().message;
  EXPECT_EQ(file_text(*by_digest), "component bytes");

  auto missing = fresh.pull(registry.host() + "/apps/hello:nope", {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("image " + registry.host() + "/apps/hello:nope"), std::string::npos);
  EXPECT_NE(missing.error().message.find("not found"), std::string::npos) << missing.error().message;
}

TEST_F(OciRegistry, PlainHttpOnlyForInsecureRegistries) {
  TestRegistry registry;
  ASSERT_TRUE(registry.running()) << registry.log();
  ImageStore store(cache_.path(), {});
  auto r = store.push(registry.host() + "/app:v1", bytes_of("x"), std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--insecure-registry " + registry.host()), std::string::npos) << r.error().message;
}

TEST_F(OciRegistry, PoliciesAndTheCache) {
  TestRegistry registry;
  ASSERT_TRUE(registry.running()) << registry.log();
  std::string image = registry.host() + "/app:v1";
  ImageStore store(cache_.path(), {registry.host()});

  auto never = store.pull(image, {PullPolicy::Never, std::nullopt});
  ASSERT_FALSE(never);
  EXPECT_NE(never.error().message.find("not in the cache"), std::string::npos) << never.error().message;
  EXPECT_NE(never.error().message.find("Never"), std::string::npos) << never.error().message;

  ASSERT_TRUE(store.push(image, bytes_of("first"), std::nullopt));
  ASSERT_TRUE(store.pull(image, {}));
  ASSERT_TRUE(store.push(image, bytes_of("second"), std::nullopt));
  // IfNotPresent keeps what the tag pointed at when pulled; Always asks again.
  auto cached = store.pull(image, {PullPolicy::IfNotPresent, std::nullopt});
  ASSERT_TRUE(cached) << cached.error().message;
  EXPECT_EQ(file_text(*cached), "first");
  auto always = store.pull(image, {PullPolicy::Always, std::nullopt});
  ASSERT_TRUE(always) << always.error().message;
  EXPECT_EQ(file_text(*always), "second");

  registry.stop();
  ImageStore again(cache_.path(), {registry.host()});
  auto offline = again.pull(image, {PullPolicy::IfNotPresent, std::nullopt});
  ASSERT_TRUE(offline) << offline.error().message;
  EXPECT_EQ(file_text(*offline), "second");
  auto never_cached = again.pull(image, {PullPolicy::Never, std::nullopt});
  ASSERT_TRUE(never_cached) << never_cached.error().message;
  auto always_offline = again.pull(image, {PullPolicy::Always, std::nullopt});
  ASSERT_FALSE(always_offline);
  EXPECT_NE(always_offline.error().message.find("image " + image), std::string::npos);
}

TEST_F(OciRegistry, TamperedBlobIsRefused) {
  TestRegistry registry;
  ASSERT_TRUE(registry.running()) << registry.log();
  ImageStore store(cache_.path(), {registry.host()});
  std::string image = registry.host() + "/app:v1";
  std::string content = "the real component";
  ASSERT_TRUE(store.push(image, bytes_of(content), std::nullopt));
  std::string layer = "sha256:" + sha256_hex(bytes_of(content));
  auto blob = registry.blob_file(layer);
  ASSERT_TRUE(std::filesystem::exists(blob)) << blob;
  std::string evil = content;
  evil[0] = 'T';
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << evil;

  auto r = store.pull(image, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not match its digest"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(layer), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(cache_.path() / "blobs/sha256" / layer.substr(7)));
}

TEST_F(OciRegistry, BasicAuthFromDockerConfigAndPullSecret) {
  TestRegistry registry({RegistryAuth::Kind::Htpasswd, "alice", "wonder land", "", "", "", ""});
  ASSERT_TRUE(registry.running()) << registry.log();
  std::string image = registry.host() + "/private/app:v1";
  ImageStore store(cache_.path(), {registry.host()});

  auto anonymous = store.push(image, bytes_of("secret component"), std::nullopt);
  ASSERT_FALSE(anonymous);
  EXPECT_NE(anonymous.error().message.find("asks for a username and password"), std::string::npos)
      << anonymous.error().message;

  {
    DockerConfig config(R"({"auths":{")" + registry.host() + R"(":{"auth":")" + base64_encode("alice:wonder land") +
                        R"("}}})");
    auto pushed = store.push(image, bytes_of("secret component"), std::nullopt);
    ASSERT_TRUE(pushed) << pushed.error().message;
    auto pulled = store.pull(image, {PullPolicy::Always, std::nullopt});
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(file_text(*pulled), "secret component");
  }

  test_support::TempDir other("stratus-oci-cache2");
  ImageStore fresh(other.path(), {registry.host()});
  auto with_secret = fresh.pull(image, {PullPolicy::IfNotPresent, Credentials{"alice", "wonder land"}});
  ASSERT_TRUE(with_secret) << with_secret.error().message;
  EXPECT_EQ(file_text(*with_secret), "secret component");

  auto wrong = fresh.pull(image, {PullPolicy::Always, Credentials{"alice", "wrong"}});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("refused the credentials"), std::string::npos) << wrong.error().message;
  EXPECT_NE(wrong.error().message.find(image), std::string::npos) << wrong.error().message;
}

// --- Bearer tokens -------------------------------------------------------

std::string base64url(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

// A token server as docker's: GET /token?service=..&scope=repository:R:actions
// with Basic credentials; answers {"token": JWT}, the JWT signed RS256 with
// a key whose self-signed certificate (x5c) is the registry's rootcertbundle.
class TokenServer {
 public:
  TokenServer(std::string user, std::string password, std::string issuer, std::string service)
      : user_(std::move(user)),
        password_(std::move(password)),
        issuer_(std::move(issuer)),
        service_(std::move(service)) {
    auto key = dir_.path() / "key.pem";
    cert_ = dir_.path() / "cert.pem";
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key.string() + " -out " + cert_.string() +
                      " -subj /CN=stratus-token -days 1 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return;
    FILE* f = std::fopen(key.c_str(), "r");
    key_ = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    f = std::fopen(cert_.c_str(), "r");
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    unsigned char* der = nullptr;
    int n = i2d_X509(x, &der);
    cert_der_b64_ = base64_encode({reinterpret_cast<char*>(der), static_cast<size_t>(n)});
    OPENSSL_free(der);
    X509_free(x);
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~TokenServer() {
    stop_ = true;
    boost::system::error_code ec;
    // Wakes accept() with a connection of our own.
    boost::asio::ip::tcp::socket s(io_);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    if (thread_.joinable()) thread_.join();
    if (key_ != nullptr) EVP_PKEY_free(key_);
  }
  bool ready() const { return key_ != nullptr && port_ != 0; }
  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  std::string cert_file() const { return cert_.string(); }
  int issued() const { return issued_; }

 private:
  std::string sign(const std::string& input) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSignUpdate(ctx, input.data(), input.size());
    EVP_DigestSignFinal(ctx, nullptr, &len);
    std::string sig(len, '\0');
    EVP_DigestSignFinal(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len);
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
  }

  std::string token(const std::string& scope) {
    nlohmann::json access = nlohmann::json::array();
    // scope: repository:NAME:pull,push
    auto first = scope.find(':'), last = scope.rfind(':');
    if (first != std::string::npos && last > first) {
      nlohmann::json actions = nlohmann::json::array();
      std::string list = scope.substr(last + 1);
      for (size_t at = 0; at <= list.size();) {
        auto comma = list.find(',', at);
        if (comma == std::string::npos) comma = list.size();
        actions.push_back(list.substr(at, comma - at));
        at = comma + 1;
      }
      access.push_back({{"type", scope.substr(0, first)},
                        {"name", scope.substr(first + 1, last - first - 1)},
                        {"actions", actions}});
    }
    auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_b64_}}};
    nlohmann::json claims = {{"iss", issuer_},
                             {"sub", user_},
                             {"aud", service_},
                             {"exp", now + 300},
                             {"nbf", now - 10},
                             {"iat", now},
                             {"jti", std::to_string(now) + "-" + std::to_string(issued_.load())},
                             {"access", access}};
    std::string input = base64url(header.dump()) + "." + base64url(claims.dump());
    return input + "." + base64url(sign(input));
  }

  void serve() {
    namespace http = boost::beast::http;
    while (!stop_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      std::string target(req.target());
      std::string scope;
      if (auto at = target.find("scope="); at != std::string::npos) {
        std::string raw = target.substr(at + 6, target.find('&', at) - at - 6);
        for (size_t i = 0; i < raw.size(); ++i) {
          if (raw[i] == '%' && i + 2 < raw.size()) {
            scope += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
            i += 2;
          } else {
            scope += raw[i];
          }
        }
      }
      std::string expected = "Basic " + base64_encode(user_ + ":" + password_);
      if (req[http::field::authorization] != expected) {
        res.result(http::status::unauthorized);
        res.body() = R"({"details":"wrong credentials"})";
      } else {
        ++issued_;
        res.body() = nlohmann::json{{"token", token(scope)}}.dump();
      }
      res.prepare_payload();
      http::write(socket, res, ec);
    }
  }

  test_support::TempDir dir_{"stratus-oci-token"};
  std::string user_, password_, issuer_, service_;
  std::filesystem::path cert_;
  EVP_PKEY* key_ = nullptr;
  std::string cert_der_b64_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> issued_{0};
  std::thread thread_;
};

TEST_F(OciRegistry, BearerTokenFlow) {
  TokenServer tokens("bob", "builder", "stratus-test-issuer", "stratus-test-registry");
  ASSERT_TRUE(tokens.ready());
  TestRegistry registry({RegistryAuth::Kind::Token, "", "", tokens.realm(), "stratus-test-registry",
                         "stratus-test-issuer", tokens.cert_file()});
  ASSERT_TRUE(registry.running()) << registry.log();
  std::string image = registry.host() + "/team/app:v1";
  ImageStore store(cache_.path(), {registry.host()});
  auto pushed = store.push(image, bytes_of("token component"), Credentials{"bob", "builder"});
  ASSERT_TRUE(pushed) << pushed.error().message << "\n" << registry.log();
  EXPECT_GE(tokens.issued(), 1);
  auto pulled = store.pull(image, {PullPolicy::Always, Credentials{"bob", "builder"}});
  ASSERT_TRUE(pulled) << pulled.error().message << "\n" << registry.log();
  EXPECT_EQ(file_text(*pulled), "token component");
  auto wrong = store.pull(image, {PullPolicy::Always, Credentials{"bob", "nope"}});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("token server refused the credentials"), std::string::npos)
      << wrong.error().message;
}

}  // namespace
}  // namespace stratus::oci

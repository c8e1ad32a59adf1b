// The OCI parsers (src/oci): references as docker and wkg read them,
// WWW-Authenticate challenges, docker config.json credentials, manifests.
#include <gtest/gtest.h>

#include "oci/auth.h"
#include "oci/http.h"
#include "oci/manifest.h"
#include "oci/reference.h"

namespace stratus::oci {
namespace {

const std::string kDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

TEST(Reference, DockerDefaults) {
  auto r = parse_reference("hello");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->registry, "docker.io");
  EXPECT_EQ(r->repository, "library/hello");
  EXPECT_EQ(r->tag, "latest");
  EXPECT_EQ(r->api_host(), "registry-1.docker.io");
  r = parse_reference("org/app:1.2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registry, "docker.io");
  EXPECT_EQ(r->repository, "org/app");
  EXPECT_EQ(r->tag, "1.2");
}

TEST(Reference, RegistriesTagsAndDigests) {
  auto r = parse_reference("localhost:5000/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registry, "localhost:5000");
  EXPECT_EQ(r->repository, "x");
  EXPECT_EQ(r->tag, "latest");
  r = parse_reference("ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registry, "ghcr.io");
  EXPECT_EQ(r->repository, "wasmcloud/components/http-hello-world-rust");
  EXPECT_EQ(r->tag, "0.1.0");
  r = parse_reference("oci://127.0.0.1:5000/a/b@" + kDigest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registry, "127.0.0.1:5000");
  EXPECT_EQ(r->tag, "");
  EXPECT_EQ(r->digest, kDigest);
  EXPECT_EQ(r->manifest_ref(), kDigest);
  r = parse_reference("localhost/a:v1@" + kDigest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registry, "localhost");
  EXPECT_EQ(r->tag, "v1");
  EXPECT_EQ(r->manifest_ref(), kDigest);
  EXPECT_EQ(r->text(), "localhost/a:v1@" + kDigest);
}

TEST(Reference, BadOnesSayWhy) {
  auto r = parse_reference("localhost:5000/App");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("repository component 'App'"), std::string::npos) << r.error().message;
  r = parse_reference("localhost:5000/app@sha256:abc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("64 lower-case hex"), std::string::npos) << r.error().message;
  r = parse_reference("localhost:5000/app@md5:abc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("only sha256"), std::string::npos) << r.error().message;
  r = parse_reference("localhost:5000/app:-bad");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tag '-bad'"), std::string::npos) << r.error().message;
  r = parse_reference("localhost:99999/app");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("registry 'localhost:99999'"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_reference("https://x/y"));
  EXPECT_FALSE(parse_reference(""));
  EXPECT_FALSE(parse_reference("a//b"));
}

TEST(Reference, FilesAreNotReferences) {
  EXPECT_FALSE(is_oci_reference("hello.wasm"));
  EXPECT_FALSE(is_oci_reference("build/examples/http-hello.wasm"));
  EXPECT_FALSE(is_oci_reference("./dir/x"));
  EXPECT_FALSE(is_oci_reference("/abs/path/x"));
  EXPECT_FALSE(is_oci_reference("components/app"));
  EXPECT_TRUE(is_oci_reference("localhost:5000/app:1"));
  EXPECT_TRUE(is_oci_reference("ghcr.io/org/app:1"));
  EXPECT_TRUE(is_oci_reference("oci://hello"));
  EXPECT_TRUE(is_oci_reference("app@" + kDigest));
}

TEST(WwwAuthenticate, BearerAndBasic) {
  auto c = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/hello:pull")");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c->params["service"], "registry.docker.io");
  EXPECT_EQ(c->params["scope"], "repository:library/hello:pull");
  c = parse_www_authenticate(R"(Basic realm="a \"quoted\" realm")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->params["realm"], R"(a "quoted" realm)");
  EXPECT_FALSE(parse_www_authenticate(""));
  auto bad = parse_www_authenticate(R"(Bearer realm="unterminated)");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unterminated"), std::string::npos);
}

TEST(DockerConfig, AuthAndUsernamePassword) {
  auto c = credentials_from_docker_config(
      R"({"auths":{"localhost:5000":{"auth":")" + base64_encode("me:s3:cret") + R"("}}})", "localhost:5000");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(*c);
  EXPECT_EQ((*c)->username, "me");
  EXPECT_EQ((*c)->password, "s3:cret");
  c = credentials_from_docker_config(R"({"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p"}}})",
                                     "docker.io");
  ASSERT_TRUE(c);
  ASSERT_TRUE(*c);
  EXPECT_EQ((*c)->username, "u");
  c = credentials_from_docker_config(R"({"auths":{}})", "ghcr.io");
  ASSERT_TRUE(c);
  EXPECT_FALSE(*c);
  auto bad = credentials_from_docker_config(R"({"auths":{"x":{"auth":"%%%"}}})", "x");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("auths.x.auth"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(credentials_from_docker_config("not json", "x"));
}

TEST(Base64, RoundTrips) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "user:pass"}) EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
}

TEST(Manifest, WasmLayerOfWhatWkgPushes) {
  Descriptor config{std::string(kWasmConfig), kDigest, 2};
  Descriptor layer{std::string(kWasmLayer), kDigest, 10};
  auto m = parse_manifest(image_manifest_json(config, layer), kOciManifest);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->is_index);
  auto l = wasm_layer(*m);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->digest, kDigest);
  EXPECT_EQ(l->size, 10u);
}

TEST(Manifest, ContainerImagesAreRefusedNamingWhatTheyHave) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                     kDigest + R"(","size":2},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                     kDigest + R"(","size":3}]})";
  auto m = parse_manifest(body, "");
  ASSERT_TRUE(m) << m.error().message;
  auto l = wasm_layer(*m);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("application/vnd.oci.image.layer.v1.tar+gzip"), std::string::npos)
      << l.error().message;
}

TEST(Manifest, IndexPicksTheWasmEntry) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                     std::string(64, '1') + R"(","size":5,"platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     kDigest + R"(","size":5,"platform":{"os":"wasip2","architecture":"wasm"}}]})";
  auto m = parse_manifest(body, kOciIndex);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(m->is_index);
  auto e = index_entry(*m);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->digest, kDigest);
}

TEST(Manifest, BadOnesNameTheField) {
  auto m = parse_manifest(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:1","size":1},"layers":[]})",
                          kOciManifest);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("manifest.config.digest"), std::string::npos) << m.error().message;
  m = parse_manifest(R"({"schemaVersion":1})", "");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("schemaVersion"), std::string::npos);
  m = parse_manifest(std::string(100, '[') + std::string(100, ']'), "");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("nested"), std::string::npos);
  m = parse_manifest(R"({"schemaVersion":2,"mediaType":"text/plain"})", "");
  ASSERT_FALSE(m);
}

TEST(Url, Parses) {
  auto u = parse_url("https://auth.example.com/token?a=b");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "auth.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/token?a=b");
  u = parse_url("http://127.0.0.1:5000");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, 5000);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->authority(), "127.0.0.1:5000");
  EXPECT_FALSE(parse_url("ftp://x/"));
  EXPECT_FALSE(parse_url("http://user@x/"));
  EXPECT_FALSE(parse_url("http://x:0/"));
}

}  // namespace
}  // namespace stratus::oci

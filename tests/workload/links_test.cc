// Links between a workload's components by interface, and the grants a
// component's resources turn into.
#include <gtest/gtest.h>

#include "workload/grants.h"
#include "workload/links.h"

namespace stratus::workload {
namespace {

bool host_has_wasi(const std::string& name) { return name.rfind("wasi:", 0) == 0; }

TEST(LinksTest, AnImportGoesToTheOneComponentExportingIt) {
  std::vector<LinkableComponent> c = {
      {"api", "components[0]", {"wasi:io/streams@0.2.3", "acme:db/query@1.2.0"}, {"wasi:http/incoming-handler@0.2.3"}},
      {"db", "components[1]", {"acme:log/sink@0.1.0"}, {"acme:db/query@1.4.1"}},
      {"log", "components[2]", {}, {"acme:log/sink@0.1.2"}},
  };
  auto links = plan_links(c, host_has_wasi);
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_EQ((*links)[0].size(), 1u);
  EXPECT_EQ((*links)[0][0].import_name, "acme:db/query@1.2.0");
  EXPECT_EQ((*links)[0][0].provider, 1u);
  EXPECT_EQ((*links)[0][0].export_name, "acme:db/query@1.4.1");
  EXPECT_EQ((*links)[1][0].provider, 2u);
  EXPECT_EQ(provider_order(*links, 0), (std::vector<size_t>{2, 1})) << "what db uses, before db";
  EXPECT_TRUE(provider_order(*links, 2).empty());
}

TEST(LinksTest, VersionsLinkAsWasmtimeJudgesThem) {
  EXPECT_TRUE(satisfies("a:b/c@1.4.0", "a:b/c@1.2.0"));
  EXPECT_FALSE(satisfies("a:b/c@1.1.0", "a:b/c@1.2.0")) << "older than built against";
  EXPECT_FALSE(satisfies("a:b/c@2.0.0", "a:b/c@1.2.0"));
  EXPECT_TRUE(satisfies("a:b/c@0.2.9", "a:b/c@0.2.1"));
  EXPECT_FALSE(satisfies("a:b/c@0.3.0", "a:b/c@0.2.1"));
  EXPECT_TRUE(satisfies("a:b/c@0.1.0-draft", "a:b/c@0.1.0-draft"));
  EXPECT_FALSE(satisfies("a:b/c@0.1.1-draft", "a:b/c@0.1.0-draft")) << "pre-releases match exactly";
  EXPECT_TRUE(satisfies("a:b/c", "a:b/c"));
  EXPECT_FALSE(satisfies("a:b/c", "a:b/c@1.0.0"));
  EXPECT_FALSE(satisfies("a:b/d@1.0.0", "a:b/c@1.0.0"));
}

TEST(LinksTest, MissingAmbiguousAndCyclicLinksAreStartErrors) {
  std::vector<LinkableComponent> missing = {{"api", "wit_world.components[0]", {"acme:db/query@1.0.0"}, {}}};
  auto m = plan_links(missing, host_has_wasi);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("wit_world.components[0] (api): imports acme:db/query@1.0.0, which neither the "
                                   "host nor another component of the workload provides"),
            std::string::npos)
      << m.error().message;

  std::vector<LinkableComponent> two = {{"api", "c[0]", {"acme:db/query@1.0.0"}, {}},
                                        {"db1", "c[1]", {}, {"acme:db/query@1.0.0"}},
                                        {"db2", "c[2]", {}, {"acme:db/query@1.1.0"}}};
  auto a = plan_links(two, host_has_wasi);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("several components export (db1, db2): ambiguous"), std::string::npos)
      << a.error().message;

  std::vector<LinkableComponent> cycle = {{"a", "c[0]", {"x:y/b@1.0.0"}, {"x:y/a@1.0.0"}},
                                          {"b", "c[1]", {"x:y/a@1.0.0"}, {"x:y/b@1.0.0"}}};
  auto c = plan_links(cycle, host_has_wasi);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("the components link in a cycle: a -> b -> a"), std::string::npos)
      << c.error().message;
}

constexpr const char* kP3 = "wasi:http/handler@0.3.0";
constexpr const char* kP2 = "wasi:http/incoming-handler@0.2.3";

LinkableComponent middleware(const char* name, const char* handler) { return {name, name, {handler}, {handler}}; }
LinkableComponent handler(const char* name, const char* h) { return {name, name, {}, {h}}; }

TEST(LinksTest, AMiddlewareLinksToTheNextHandlerAfterIt) {
  for (const char* h : {kP3, kP2}) {
    auto links = plan_links({middleware("mw", h), handler("app", h)}, host_has_wasi);
    ASSERT_TRUE(links) << links.error().message;
    ASSERT_EQ((*links)[0].size(), 1u) << h;
    EXPECT_EQ((*links)[0][0].provider, 1u);
    EXPECT_EQ((*links)[0][0].export_name, h);
    EXPECT_TRUE((*links)[0][0].chain);
    EXPECT_TRUE((*links)[1].empty());
  }
}

TEST(LinksTest, AThreeMemberChainLinksInTheOrderOfTheComponents) {
  for (const char* h : {kP3, kP2}) {
    std::vector<LinkableComponent> c = {middleware("auth", h),
                                        middleware("log", h),
                                        handler("app", h),
                                        {"svc", "service", {h, "acme:x/y@1.0.0"}, {}},
                                        {"db", "db", {}, {"acme:x/y@1.0.0"}}};
    auto links = plan_links(c, host_has_wasi);
    ASSERT_TRUE(links) << links.error().message;
    ASSERT_EQ((*links)[0].size(), 1u);
    EXPECT_EQ((*links)[0][0].provider, 1u) << "auth -> log";
    ASSERT_EQ((*links)[1].size(), 1u);
    EXPECT_EQ((*links)[1][0].provider, 2u) << "log -> app";
    ASSERT_EQ((*links)[3].size(), 2u);
    EXPECT_EQ((*links)[3][0].provider, 0u) << "a member importing the handler gets the head";
    EXPECT_FALSE((*links)[3][0].chain);
    EXPECT_EQ((*links)[3][1].provider, 4u) << "other links as before";
    EXPECT_EQ(provider_order(*links, 0), (std::vector<size_t>{2, 1}));
  }
}

TEST(LinksTest, AChainWithNoHandlerAfterAMiddlewareIsCircular) {
  auto alone = plan_links({handler("app", kP3), middleware("mw", kP3)}, host_has_wasi);
  ASSERT_FALSE(alone);
  EXPECT_NE(alone.error().message.find("wit_world: the HTTP chain mw is circular: mw imports wasi:http/handler@0.3.0 "
                                       "and no member after it exports it"),
            std::string::npos)
      << alone.error().message;

  auto two = plan_links({middleware("auth", kP2), middleware("log", kP2)}, host_has_wasi);
  ASSERT_FALSE(two);
  EXPECT_NE(two.error().message.find("wit_world: the HTTP chain auth -> log is circular: log imports "
                                     "wasi:http/incoming-handler@0.2.3 and no member after it exports it"),
            std::string::npos)
      << two.error().message;
}

TEST(LinksTest, AMiddlewareBesideAnotherHeadIsAmbiguous) {
  for (const char* h : {kP3, kP2}) {
    auto links = plan_links({middleware("mw", h), handler("app", h), handler("other", h)}, host_has_wasi);
    ASSERT_FALSE(links);
    EXPECT_NE(links.error().message.find("wit_world: the HTTP chain mw -> app is ambiguous"), std::string::npos)
        << links.error().message;
    EXPECT_NE(links.error().message.find("(mw, other)"), std::string::npos) << links.error().message;
  }
  auto three = plan_links({middleware("auth", kP3), middleware("log", kP3), handler("app", kP3), handler("other", kP3)},
                          host_has_wasi);
  ASSERT_FALSE(three);
  EXPECT_NE(three.error().message.find("wit_world: the HTTP chain auth -> log is ambiguous"), std::string::npos)
      << three.error().message;
  EXPECT_EQ(three.error().message.find('\n'), std::string::npos) << "once: " << three.error().message;
  // Without a middleware, several handlers are routes of their own.
  auto plain = plan_links({handler("a", kP3), handler("b", kP3)}, host_has_wasi);
  EXPECT_TRUE(plain) << plain.error().message;
  // A P2 chain beside a P3 handler: different interfaces, no ambiguity.
  auto mixed = plan_links({middleware("mw", kP2), handler("app", kP2), handler("p3", kP3)}, host_has_wasi);
  EXPECT_TRUE(mixed) << mixed.error().message;
}

TEST(LinksTest, AMemberImportingAHandlerOfSeveralHeadsIsAmbiguous) {
  auto links = plan_links({handler("a", kP3), handler("b", kP3), {"svc", "service", {kP3}, {}}}, host_has_wasi);
  ASSERT_FALSE(links);
  EXPECT_NE(links.error().message.find("service (svc): imports wasi:http/handler@0.3.0, which several components "
                                       "export (a, b): ambiguous"),
            std::string::npos)
      << links.error().message;
}

TEST(GrantsTest, ResourcesBecomeDenyByDefaultGrants) {
  LocalResources r;
  r.environment = {{"A", "1"}};
  r.volume_mounts = {{"data", "/data", false}, {"conf", "/etc/app", true}};
  r.allowed_hosts = {"api.example.com"};
  r.allowed_ip_name_lookups = {"db.internal"};
  r.allowed_host_loopback_ports = {5432};
  auto g = guest_grants("api", r, {{"data", "/srv/data"}, {"conf", "/srv/conf"}});
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->args, (std::vector<std::string>{"api"}));
  ASSERT_EQ(g->env.size(), 1u);
  ASSERT_EQ(g->dirs.size(), 2u);
  EXPECT_EQ(g->dirs[1].host_path, "/srv/conf");
  EXPECT_EQ(g->dirs[1].guest_path, "/etc/app");
  EXPECT_TRUE(g->dirs[1].read_only);
  EXPECT_EQ(g->allowed_hosts, r.allowed_hosts);
  EXPECT_TRUE(g->sockets.allows_lookup("db.internal"));
  EXPECT_FALSE(g->sockets.allows_lookup("example.com"));
  auto at = [](const char* ip, uint16_t port) {
    return wasi::p2::SocketAddress{*wasi::p2::IpAddress::parse(ip), port, 0};
  };
  EXPECT_TRUE(g->sockets.allows_connect(at("127.0.0.1", 5432)));
  EXPECT_TRUE(g->sockets.allows_connect(at("::1", 5432)));
  EXPECT_FALSE(g->sockets.allows_connect(at("127.0.0.1", 5433))) << "only the named port";
  EXPECT_FALSE(g->sockets.allows_connect(at("10.0.0.1", 5432))) << "only the host's loopback";
  EXPECT_FALSE(g->sockets.allows_connect(at("127.0.0.2", 5432))) << "127.0.0.1 and ::1 only";
  EXPECT_FALSE(g->sockets.allows_connect(at("::ffff:127.0.0.1", 5432))) << "not the IPv4-mapped form";
  EXPECT_FALSE(g->sockets.allows_connect(at("0.0.0.0", 5432)));
  EXPECT_FALSE(g->sockets.allows_bind(at("127.0.0.1", 5432)));

  auto none = guest_grants("api", LocalResources{}, {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->env.empty());
  EXPECT_TRUE(none->dirs.empty());
  EXPECT_TRUE(none->allowed_hosts.empty());
  EXPECT_FALSE(none->sockets.allows_connect(at("127.0.0.1", 5432)));

  auto bad = guest_grants("api", r, {{"data", "/srv/data"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("the volume `conf` is not in volumes"), std::string::npos);
}

}  // namespace
}  // namespace stratus::workload

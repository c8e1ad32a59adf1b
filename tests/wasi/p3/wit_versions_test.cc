// The host serves each WASI 0.3 interface under 0.3.0 and under the release
// candidate 0.3.0-rc-2026-03-15 from one set of bindings (define_versions).
// That is right only while the two versions' WIT reads the same but for the
// version: check it on the worlds that take in every interface the host
// serves (wasi:cli/command: cli, clocks, filesystem, random, sockets;
// wasi:http/service: http), resolved from src/wasi/p3/wit and printed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "component/wit_print.h"
#include "wit/parser.h"
#include "wit/resolve.h"

namespace stratus::wit {
namespace {

namespace fs = std::filesystem;

// Every package of one version's folder (a folder per package).
std::vector<ParsedPackage> packages_of_version(const fs::path& folder) {
  std::vector<ParsedPackage> all;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_directory()) continue;
    auto parsed = parse_root(entry.path());
    EXPECT_TRUE(parsed.ok()) << entry.path() << ": " << parsed.error().message;
    if (!parsed.ok()) continue;
    for (auto& p : *parsed) all.push_back(std::move(p));
  }
  return all;
}

std::string printed(const std::vector<ParsedPackage>& packages, const std::string& world) {
  auto resolved = resolve_world(packages, world);
  if (!resolved.ok()) return "(" + world + ": " + resolved.error().message + ")";
  return component::print_wit(**resolved);
}

std::string without(std::string text, const std::string& what) {
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at)) text.erase(at, what.size());
  return text;
}

TEST(WasiP3WitVersionsTest, TheReleaseCandidateReadsAsTheRelease) {
  fs::path wit = fs::path(STRATUS_SOURCE_DIR) / "src/wasi/p3/wit";
  auto release = packages_of_version(wit / "0.3.0");
  auto candidate = packages_of_version(wit / "0.3.0-rc-2026-03-15");
  ASSERT_EQ(release.size(), 6u);
  ASSERT_EQ(candidate.size(), 6u);
  for (const char* world : {"wasi:cli/command", "wasi:http/service"}) {
    std::string a = printed(release, std::string(world) + "@0.3.0");
    std::string b = printed(candidate, std::string(world) + "@0.3.0-rc-2026-03-15");
    ASSERT_NE(a.find("import wasi:"), std::string::npos) << a;
    EXPECT_EQ(without(a, "@0.3.0"), without(b, "@0.3.0-rc-2026-03-15")) << world;
  }
}

}  // namespace
}  // namespace stratus::wit

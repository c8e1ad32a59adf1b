// The decoder against the Component Model's reference tests: every component
// form of the .wast scripts (converted by wast_components.mjs) must decode when
// the script says it is valid and be rejected inside assert_invalid and
// assert_malformed. Scripts under async/ (but async/validate-*) only have to
// decode without crashing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "component/binary/decoder.h"
#include "support/file.h"

namespace stratus::component {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string expect, file, where, note;
};

std::vector<Entry> read_manifest() {
  std::vector<Entry> out;
  std::ifstream in(fs::path(STRATUS_WAST_COMPONENTS_DIR) / "manifest.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    Entry e;
    std::getline(fields, e.expect, '\t');
    std::getline(fields, e.file, '\t');
    std::getline(fields, e.where, '\t');
    std::getline(fields, e.note);
    out.push_back(e);
  }
  return out;
}

// script:line -> reason.
std::map<std::string, std::string> read_allowlist() {
  std::map<std::string, std::string> out;
  std::ifstream in(STRATUS_CONFORMANCE_ALLOWLIST);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.find(' ');
    out[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return out;
}

TEST(ConformanceTest, ReferenceTestComponentsAreJudgedAsTheSpecSays) {
  auto entries = read_manifest();
  ASSERT_GT(entries.size(), 500u) << "wast_components.mjs wrote too few components";
  auto allow = read_allowlist();
  std::set<std::string> allow_used;
  size_t rejected = 0, wrongly_accepted = 0, skipped = 0, valid_ok = 0, valid_failed = 0, async_seen = 0;
  for (const auto& e : entries) {
    // async/validate-* are validation rules, judged like the rest.
    bool async = e.where.rfind("async/", 0) == 0 && e.where.rfind("async/validate-", 0) != 0;
    if (e.file == "-") {
      ++skipped;
      continue;
    }
    auto bytes = read_file(fs::path(STRATUS_WAST_COMPONENTS_DIR) / e.file);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    auto decoded = decode_component(*bytes);
    if (async) {
      ++async_seen;  // must only not crash
      continue;
    }
    bool allowed = allow.count(e.where) != 0;
    if (allowed) allow_used.insert(e.where);
    if (e.expect == "valid") {
      if (decoded.ok()) {
        ++valid_ok;
        EXPECT_FALSE(allowed) << e.where << " is allowlisted but now decodes: remove it";
      } else {
        ++valid_failed;
        if (!allowed) ADD_FAILURE() << e.where << ": valid component rejected: " << decoded.error().message;
      }
    } else if (decoded.ok()) {
      ++wrongly_accepted;
      if (!allowed) ADD_FAILURE() << e.where << ": " << e.expect << " component accepted (expected: " << e.note << ")";
    } else {
      ++rejected;
      EXPECT_FALSE(allowed) << e.where << " is allowlisted but is now rejected: remove it";
    }
  }
  for (const auto& [where, reason] : allow)
    EXPECT_TRUE(allow_used.count(where) != 0) << "allowlist entry " << where << " matches no component";
  std::printf("component-validate: %zu rejected correctly, %zu wrongly accepted, %zu skipped\n", rejected,
              wrongly_accepted, skipped);
  std::printf("component-decode: %zu valid decoded, %zu valid rejected, %zu async checked for crashes only\n", valid_ok,
              valid_failed, async_seen);
}

}  // namespace
}  // namespace stratus::component

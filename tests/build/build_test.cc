// stratus.json loading, depfiles and templates (build/project.h,
// build/build.h, build/templates.h), without running a compiler.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "build/build.h"
#include "build/project.h"
#include "build/templates.h"
#include "tests/support/temp_dir.h"

namespace stratus::build {
namespace {

namespace fs = std::filesystem;

using test_support::TempDir;

std::string read(const fs::path& p) { return test_support::read_text(p); }

TEST(ProjectTest, LoadsNameWorldAndEverySourceUnderItsFolders) {
  TempDir dir;
  dir.write("stratus.json", R"({"name": "demo-b2", "world": "app", "sources": ["src", "extra.c"], "cflags": ["-DX"]})");
  dir.write("wit/app.wit", "package component:demo-b2;\nworld app {}\n");
  dir.write("src/main.cc", "");
  dir.write("src/util/b.cpp", "");
  dir.write("src/notes.txt", "");
  dir.write("extra.c", "");
  auto p = load_project(dir.path());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->name, "demo-b2");
  EXPECT_EQ(p->world, "app");
  ASSERT_EQ(p->sources.size(), 3u);
  EXPECT_EQ(p->sources[0], dir.path() / "extra.c");
  EXPECT_EQ(p->sources[1], dir.path() / "src/main.cc");
  EXPECT_EQ(p->sources[2], dir.path() / "src/util/b.cpp");
  EXPECT_EQ(p->cflags, std::vector<std::string>{"-DX"});
}

TEST(ProjectTest, SourcesDefaultToSrcAndNoWorldMeansACommand) {
  TempDir dir;
  dir.write("stratus.json", R"({"name": "tool"})");
  dir.write("src/main.c", "");
  auto p = load_project(dir.path());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->world.has_value());
  ASSERT_EQ(p->sources.size(), 1u);
}

TEST(ProjectTest, ReportsEveryProblemAtOnceWithItsField) {
  TempDir dir;
  dir.write("stratus.json",
            R"({"name": "Bad Name", "world": "app", "sources": ["missing", 7, "notes.txt", "empty"],
                "cflags": ["-O1", 3], "colour": "blue"})");
  dir.write("notes.txt", "");
  fs::create_directories(dir.path() / "empty");
  auto p = load_project(dir.path());
  ASSERT_FALSE(p.ok());
  const std::string& m = p.error().message;
  EXPECT_NE(m.find("stratus.json:"), std::string::npos) << m;
  EXPECT_NE(m.find("name: 'Bad Name' is not"), std::string::npos) << m;
  EXPECT_NE(m.find("sources[0]: 'missing' does not exist"), std::string::npos) << m;
  EXPECT_NE(m.find("sources[1]: expected a string, found a number"), std::string::npos) << m;
  EXPECT_NE(m.find("sources[2]: 'notes.txt' is not a C or C++ source"), std::string::npos) << m;
  EXPECT_NE(m.find("sources[3]: no C or C++ source in 'empty'"), std::string::npos) << m;
  EXPECT_NE(m.find("cflags[1]: expected a string"), std::string::npos) << m;
  EXPECT_NE(m.find("colour: unknown field"), std::string::npos) << m;
  EXPECT_NE(m.find("world: 'app' needs its WIT in"), std::string::npos) << m;
}

TEST(ProjectTest, MissingOrMalformedStratusJson) {
  TempDir dir;
  auto missing = load_project(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("stratus new"), std::string::npos) << missing.error().message;
  dir.write("stratus.json", "{\"name\": ");
  auto broken = load_project(dir.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("not valid JSON"), std::string::npos) << broken.error().message;
  dir.write("stratus.json", "[1]");
  auto array = load_project(dir.path());
  ASSERT_FALSE(array.ok());
  EXPECT_NE(array.error().message.find("expected an object, found an array"), std::string::npos);
}

TEST(ProjectTest, ProjectNames) {
  for (const char* ok : {"demo", "my-app", "a1-b2", "x"}) EXPECT_TRUE(valid_project_name(ok)) << ok;
  for (const char* bad : {"", "Demo", "my_app", "-a", "a-", "a--b", "1a", "a-1b", "a b", "a/b", "../x"}) {
    EXPECT_FALSE(valid_project_name(bad)) << bad;
  }
}

TEST(DepfileTest, ContinuationsAndEscapedSpaces) {
  auto deps = parse_depfile("obj/main.cc.o: src/main.cc \\\n  /usr/include/a.h my\\ dir/b.h\\\n  c.h\n");
  EXPECT_EQ(deps, (std::vector<std::string>{"src/main.cc", "/usr/include/a.h", "my dir/b.h", "c.h"}));
  EXPECT_TRUE(parse_depfile("no colon here").empty());
}

TEST(TemplateTest, NewProjectTakesItsNameInStratusJsonAndWitPackage) {
  TempDir dir;
  ASSERT_TRUE(new_project(dir.path() / "shop", "shop", "http-hello").ok());
  auto json = nlohmann::json::parse(read(dir.path() / "shop/stratus.json"));
  EXPECT_EQ(json["name"], "shop");
  EXPECT_EQ(json["world"], "app");
  std::string wit = read(dir.path() / "shop/wit/app.wit");
  EXPECT_NE(wit.find("package component:shop;"), std::string::npos) << wit;
  EXPECT_EQ(wit.find("http-hello"), std::string::npos) << wit;
  EXPECT_TRUE(fs::exists(dir.path() / "shop/src/main.cc"));
  EXPECT_TRUE(fs::exists(dir.path() / "shop/.gitignore"));
  auto loaded = load_project(dir.path() / "shop");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;

  ASSERT_TRUE(new_project(dir.path() / "wc", "wc", "cli").ok());
  auto cli = load_project(dir.path() / "wc");
  ASSERT_TRUE(cli.ok()) << cli.error().message;
  EXPECT_FALSE(cli->world.has_value());
}

TEST(TemplateTest, RefusesUnknownTemplatesBadNamesAndNonEmptyFolders) {
  TempDir dir;
  auto unknown = new_project(dir.path() / "a", "a", "rust");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("there are: "), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("http-hello"), std::string::npos);
  auto bad = new_project(dir.path() / "b", "B_ad", "cli");
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(fs::exists(dir.path() / "b"));
  dir.write("busy/file", "keep me");
  auto busy = new_project(dir.path() / "busy", "busy", "cli");
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.error().message.find("not empty"), std::string::npos);
  EXPECT_EQ(read(dir.path() / "busy/file"), "keep me");
}

TEST(TemplateTest, TemplatesAreTheExamples) {
  auto names = template_names();
  EXPECT_EQ(names, (std::vector<std::string>{"http-hello", "http-p3", "cli"}));
  for (const auto& f : template_files()) {
    fs::path on_disk = fs::path(STRATUS_SOURCE_DIR) / "examples" / std::string(f.template_name) / std::string(f.path);
    EXPECT_EQ(read(on_disk), f.contents) << on_disk;
  }
}

}  // namespace
}  // namespace stratus::build

#include "build/project.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <system_error>

#include "support/file.h"

namespace stratus::build {
namespace fs = std::filesystem;

bool valid_project_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  bool word_start = true;
  for (char c : name) {
    if (c == '-') {
      if (word_start) return false;  // empty word
      word_start = true;
      continue;
    }
    bool letter = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
    if (!letter && !digit) return false;
    if (word_start && !letter) return false;
    word_start = false;
  }
  return !word_start;
}

std::optional<Language> source_language(const fs::path& path) {
  auto ext = path.extension().string();
  if (ext == ".c") return Language::C;
  if (ext == ".cc" || ext == ".cpp" || ext == ".cxx") return Language::Cxx;
  return std::nullopt;
}

namespace {

// The problems found so far, each "field: what".
struct Problems {
  std::vector<std::string> lines;
  void add(const std::string& field, const std::string& what) { lines.push_back(field + ": " + what); }
};

const char* json_kind(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    default: return "a number";
  }
}

// The source files under `entry` (a file, or a folder searched recursively).
void add_sources(const fs::path& dir, const std::string& field, const std::string& entry, Project& project,
                 Problems& problems) {
  fs::path path = (dir / entry).lexically_normal();
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    problems.add(field, "'" + entry + "' does not exist");
    return;
  }
  if (fs::is_regular_file(status)) {
    if (!source_language(path)) {
      problems.add(field, "'" + entry + "' is not a C or C++ source (.c, .cc, .cpp, .cxx)");
      return;
    }
    project.sources.push_back(path);
    return;
  }
  size_t before = project.sources.size();
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && source_language(it->path())) project.sources.push_back(it->path().lexically_normal());
  }
  if (ec) problems.add(field, "cannot list '" + entry + "': " + ec.message());
  if (project.sources.size() == before) problems.add(field, "no C or C++ source in '" + entry + "'");
}

}  // namespace

Result<Project> load_project(const fs::path& dir) {
  fs::path file = dir / "stratus.json";
  auto bytes = read_file(file);
  if (!bytes) {
    return make_error(file.string() + ": cannot read it (" + bytes.error().message +
                      "); `stratus new NAME --template http-hello|cli` makes a project");
  }
  auto json = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (json.is_discarded()) return make_error(file.string() + ": not valid JSON");
  if (!json.is_object()) return make_error(file.string() + ": expected an object, found " + json_kind(json));

  Project project;
  project.dir = dir.lexically_normal();
  Problems problems;
  for (const auto& [key, value] : json.items()) {
    if (key != "name" && key != "world" && key != "sources" && key != "cflags") {
      problems.add(key, "unknown field (expected name, world, sources, cflags)");
    }
  }
  if (!json.contains("name")) {
    problems.add("name", "missing");
  } else if (!json["name"].is_string()) {
    problems.add("name", std::string("expected a string, found ") + json_kind(json["name"]));
  } else {
    project.name = json["name"].get<std::string>();
    if (!valid_project_name(project.name)) {
      problems.add("name", "'" + project.name + "' is not lowercase words of letters and digits joined by '-'");
    }
  }
  if (json.contains("world")) {
    if (!json["world"].is_string() || json["world"].get<std::string>().empty()) {
      problems.add("world", "expected a world's name");
    } else {
      project.world = json["world"].get<std::string>();
    }
  }
  nlohmann::json sources = json.contains("sources") ? json["sources"] : nlohmann::json::array({"src"});
  if (!sources.is_array() || sources.empty()) {
    problems.add("sources", "expected a non-empty array of files and folders");
  } else {
    for (size_t i = 0; i < sources.size(); ++i) {
      std::string field = "sources[" + std::to_string(i) + "]";
      if (!sources[i].is_string()) {
        problems.add(field, std::string("expected a string, found ") + json_kind(sources[i]));
      } else {
        add_sources(dir, field, sources[i].get<std::string>(), project, problems);
      }
    }
  }
  if (json.contains("cflags")) {
    const auto& flags = json["cflags"];
    if (!flags.is_array()) {
      problems.add("cflags", "expected an array of strings");
    } else {
      for (size_t i = 0; i < flags.size(); ++i) {
        if (flags[i].is_string()) {
          project.cflags.push_back(flags[i].get<std::string>());
        } else {
          problems.add("cflags[" + std::to_string(i) + "]", "expected a string");
        }
      }
    }
  }
  if (project.world && !fs::is_directory(dir / "wit")) {
    problems.add("world", "'" + *project.world + "' needs its WIT in " + (dir / "wit").string());
  }
  if (!problems.lines.empty()) {
    std::string message = file.string() + ":";
    for (const auto& line : problems.lines) message += "\n  " + line;
    return make_error(message);
  }
  std::sort(project.sources.begin(), project.sources.end());
  project.sources.erase(std::unique(project.sources.begin(), project.sources.end()), project.sources.end());
  return project;
}

}  // namespace stratus::build

#include "build/templates.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>
#include <system_error>

#include "build/project.h"
#include "support/file.h"

namespace stratus::build {
namespace fs = std::filesystem;

std::vector<std::string> template_names() {
  std::vector<std::string> names;
  for (const auto& f : template_files()) {
    if (std::find(names.begin(), names.end(), f.template_name) == names.end()) names.emplace_back(f.template_name);
  }
  return names;
}

namespace {

std::string list_of(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// The file as the new project has it: its own name in stratus.json and in
// the root package's `package component:<template>;`.
Result<std::string> renamed(const TemplateFile& file, const std::string& name) {
  std::string text(file.contents);
  if (file.path == "stratus.json") {
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return make_error("template " + std::string(file.template_name) + ": stratus.json is not a JSON object");
    }
    json["name"] = name;
    return json.dump(2) + "\n";
  }
  if (file.path.rfind("wit/", 0) == 0 && file.path.find('/', 4) == std::string_view::npos) {
    std::string from = "package component:" + std::string(file.template_name) + ";";
    auto at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), "package component:" + name + ";");
  }
  return text;
}

}  // namespace

Result<void> new_project(const fs::path& dir, const std::string& name, const std::string& template_name) {
  auto names = template_names();
  if (std::find(names.begin(), names.end(), template_name) == names.end()) {
    return make_error("no template '" + template_name + "' (there are: " + list_of(names) + ")");
  }
  if (!valid_project_name(name)) {
    return make_error("'" + name +
                      "' cannot name a project: use lowercase words of letters and digits joined by '-' (my-app)");
  }
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return make_error(dir.string() + " already exists and is not empty");
  }
  for (const auto& file : template_files()) {
    if (file.template_name != template_name) continue;
    auto text = renamed(file, name);
    if (!text) return std::move(text).error();
    fs::path path = dir / fs::path(std::string(file.path));
    fs::create_directories(path.parent_path(), ec);
    if (ec) return make_error("cannot make " + path.parent_path().string() + ": " + ec.message());
    STRATUS_TRY(write_file_atomic(
        path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text->data()), text->size())));
  }
  return {};
}

}  // namespace stratus::build

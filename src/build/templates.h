// `stratus new NAME --template T`: a new project from a template. The
// templates are the projects in examples/ (http-hello, cli), built into
// stratus by the build, so each template is an example the tests build,
// serve and run.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "support/result.h"

namespace stratus::build {

struct TemplateFile {
  std::string_view template_name;
  std::string_view path;  // inside the project, '/'-separated
  std::string_view contents;
};
// Every template's files (generated from examples/ by the build).
const std::vector<TemplateFile>& template_files();

std::vector<std::string> template_names();

// Writes project `name` from template `template_name` into `dir`, which must
// not exist or be empty. The project takes the name in stratus.json and in
// its WIT package (component:NAME).
Result<void> new_project(const std::filesystem::path& dir, const std::string& name, const std::string& template_name);

}  // namespace stratus::build

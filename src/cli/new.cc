// `stratus new NAME [--template http-hello|http-p3|cli] [--dir DIR]`: makes a guest
// project from a template (build/templates.h) in DIR (default: ./NAME).
#include <cstdio>
#include <memory>
#include <string>

#include "build/templates.h"
#include "cli/subcommand.h"

namespace stratus::cli {
namespace {

struct Options {
  std::string name;
  std::string template_name = "http-hello";
  std::string dir;
};

int new_command(const Options& o) {
  std::string dir = o.dir.empty() ? o.name : o.dir;
  auto made = build::new_project(dir, o.name, o.template_name);
  if (!made) {
    std::fprintf(stderr, "stratus: new: %s\n", made.error().message.c_str());
    return 1;
  }
  std::printf("stratus new: made %s from template %s; build it with: cd %s && stratus build\n", dir.c_str(),
              o.template_name.c_str(), dir.c_str());
  return 0;
}

}  // namespace

Subcommand add_new(CLI::App& parent) {
  auto opts = std::make_shared<Options>();
  auto* app = parent.add_subcommand("new", "Make a C++ guest project from a template");
  app->add_option("name", opts->name, "The project's name (lowercase words joined by '-')")->required();
  std::string templates;
  for (const auto& t : build::template_names()) templates += (templates.empty() ? "" : "|") + t;
  app->add_option("-t,--template", opts->template_name, "The template: " + templates + " (default: http-hello)");
  app->add_option("--dir", opts->dir, "Where to make it (default: ./NAME)");
  return {app, [opts] { return new_command(*opts); }};
}

}  // namespace stratus::cli

// How `stratus` subcommands plug into the command line: each lives in its own
// file, declares its options on a CLI11 subcommand and returns the action to
// run when the user picked it. main.cc only lists them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace stratus::cli {

struct Subcommand {
  CLI::App* app;             // the registered CLI11 subcommand (owned by the parent app)
  std::function<int()> run;  // runs it after parsing; returns the process exit code
};

// One function per subcommand, defined in <name>.cc.
Subcommand add_run(CLI::App& parent);
Subcommand add_serve(CLI::App& parent);
Subcommand add_run_core(CLI::App& parent);
Subcommand add_inspect(CLI::App& parent);
Subcommand add_bindgen(CLI::App& parent);
Subcommand add_build(CLI::App& parent);
Subcommand add_new(CLI::App& parent);
Subcommand add_up(CLI::App& parent);
Subcommand add_compose(CLI::App& parent);
Subcommand add_host(CLI::App& parent);
Subcommand add_push(CLI::App& parent);

}  // namespace stratus::cli

// The built `stratus` binary (STRATUS_BINARY) in a child process, as a user
// runs it: its exit code and what it wrote.
#pragma once

#include <spawn.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "tests/wasi/capture.h"

extern char** environ;

namespace stratus::cli {

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};

inline Ran run_stratus(std::vector<std::string> args) {
  testing::CapturedFd in("stdin"), out("stdout"), err("stderr");
  args.insert(args.begin(), STRATUS_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd(), 2);
  pid_t pid = -1;
  Ran ran;
  if (posix_spawn(&pid, STRATUS_BINARY, &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  ran.out = out.text();
  ran.err = err.text();
  return ran;
}

}  // namespace stratus::cli

#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace stratus {
namespace {

// A file descriptor owned by this scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& args, std::chrono::steady_clock::time_point started,
                                  std::chrono::milliseconds slow_after, const std::function<void()>& on_slow) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return make_error("pipe failed");
  Fd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return make_error("cannot run '" + args[0] + "': " + std::strerror(rc));
  write_end.reset();

  ProcessResult out;
  bool reported = !on_slow;
  char buf[4096];
  for (;;) {
    int timeout = -1;
    if (!reported) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(started + slow_after -
                                                                        std::chrono::steady_clock::now());
      timeout = left.count() > 0 ? static_cast<int>(left.count()) : 0;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    int n = poll(&p, 1, timeout);
    if (n == 0) {
      if (!reported) on_slow();
      reported = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    ssize_t got = read(read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.output.append(buf, static_cast<size_t>(got));
  }
  while (waitpid(pid, &out.status, 0) < 0 && errno == EINTR) {
  }
  return out;
}

Result<ProcessResult> run_process(const std::vector<std::string>& args) {
  return run_process(args, std::chrono::steady_clock::now(), std::chrono::milliseconds(0), nullptr);
}

bool ProcessResult::succeeded() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string ProcessResult::describe() const {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

}  // namespace stratus

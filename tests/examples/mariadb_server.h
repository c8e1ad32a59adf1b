// A MariaDB server of the tests' own (Debian's mariadb-server): a fresh
// data folder (mariadb-install-db), mariadbd on a free loopback port and a
// socket in that folder, stopped and started again at will, and SQL run as
// root through the `mariadb` client over the socket.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"
#include "tests/support/server_process.h"

namespace stratus::test_support {

class MariaDbServer {
 public:
  // The server's programs, or nullopt with `why` when mariadb-server is not installed.
  static std::optional<std::string> find_mariadbd(std::string& why) {
    auto find = [](const char* name) -> std::optional<std::string> {
      for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
        std::string p = std::string(dir) + "/" + name;
        if (::access(p.c_str(), X_OK) == 0) return p;
      }
      return std::nullopt;
    };
    auto mariadbd = find("mariadbd");
    if (mariadbd && find("mariadb-install-db") && find("mariadb")) return mariadbd;
    why = "mariadb-server is not installed (mariadbd, mariadb-install-db, mariadb; ./x deps installs it)";
    return std::nullopt;
  }

  // Makes a data folder in `dir` (empty; its path short enough for a
  // socket's) and starts the server. error() says what failed, if anything.
  MariaDbServer(std::string mariadbd, const std::filesystem::path& dir)
      : mariadbd_(std::move(mariadbd)), dir_(dir), port_(free_loopback_port()) {
    // Temporary tables in a folder of its own: servers of tests running at
    // once (and whatever else cleans /tmp) must not meet in /tmp.
    std::filesystem::create_directories(dir_ / "tmp");
    std::vector<std::string> install = {"mariadb-install-db",
                                        "--no-defaults",
                                        "--datadir=" + (dir_ / "data").string(),
                                        "--tmpdir=" + (dir_ / "tmp").string(),
                                        "--auth-root-authentication-method=normal",
                                        "--skip-test-db"};
    if (::geteuid() == 0) install.push_back("--user=root");
    auto installed = run_process(install);
    if (!installed || !installed->succeeded()) {
      error_ = "mariadb-install-db failed: " + (installed ? installed->output : installed.error().message);
      return;
    }
    start();
  }

  bool start() {
    std::vector<std::string> argv = {mariadbd_,
                                     "--no-defaults",
                                     "--datadir=" + (dir_ / "data").string(),
                                     "--tmpdir=" + (dir_ / "tmp").string(),
                                     "--socket=" + socket(),
                                     "--pid-file=" + (dir_ / "mariadbd.pid").string(),
                                     "--log-error=" + (dir_ / "error.log").string(),
                                     "--skip-networking=0",
                                     "--bind-address=127.0.0.1",
                                     "--port=" + std::to_string(port_),
                                     "--innodb-buffer-pool-size=16M",
                                     "--skip-log-bin"};
    if (::geteuid() == 0) argv.push_back("--user=root");
    process_ = std::make_unique<ServerProcess>(argv, port_);
    if (!process_->running()) error_ = "mariadbd did not start; see " + (dir_ / "error.log").string();
    return process_->running();
  }

  void stop() { process_.reset(); }

  // Runs `sql` as root; what the client printed (tab-separated rows, no
  // column names), or nullopt when it failed (the output then in `failure`).
  std::optional<std::string> sql(const std::string& statements, std::string* failure = nullptr) const {
    auto r = run_process({"mariadb", "--no-defaults", "--socket=" + socket(), "-uroot", "-N", "-B", "-e", statements});
    if (!r || !r->succeeded()) {
      if (failure) *failure = r ? r->output : r.error().message;
      return std::nullopt;
    }
    return r->output;
  }

  uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }
  std::string socket() const { return (dir_ / "sock").string(); }

 private:
  std::string mariadbd_;
  std::filesystem::path dir_;
  uint16_t port_;
  std::unique_ptr<ServerProcess> process_;
  std::string error_;
};

}  // namespace stratus::test_support

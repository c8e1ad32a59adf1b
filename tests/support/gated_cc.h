// A C compiler for the aot backend that compiles only once the test opens
// its gate (or after 20 s): what a tiered engine reports while its
// background compile is under way can then be checked without racing it.
// `--version` (the compiler's identity) answers at once.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace stratus::test_support {

class GatedCc {
 public:
  GatedCc() : dir_("stratus-gated-cc") {
    script_ = (dir_.path() / "cc").string();
    std::ofstream out(script_);
    out << "#!/bin/sh\n"
           "case \"$1\" in --version) exec cc \"$@\";; esac\n"
           "n=0\n"
           "while [ ! -e '"
        << (dir_.path() / "open").string()
        << "' ] && [ $n -lt 1000 ]; do sleep 0.02; n=$((n+1)); done\n"
           "exec cc \"$@\"\n";
    out.close();
    ::chmod(script_.c_str(), 0755);
  }
  ~GatedCc() { open(); }
  GatedCc(const GatedCc&) = delete;
  GatedCc& operator=(const GatedCc&) = delete;

  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::string& script() const { return script_; }
  void open() const { std::ofstream(dir_.path() / "open").put('\n'); }

  // Opens the gate when it goes out of scope: declared after an engine,
  // it lets that engine's compile finish before the engine waits for it.
  struct OpenOnExit {
    const GatedCc& gate;
    ~OpenOnExit() { gate.open(); }
  };

 private:
  TempDir dir_;
  std::string script_;
};

}  // namespace stratus::test_support

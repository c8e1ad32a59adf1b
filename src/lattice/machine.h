// What a heartbeat says about the machine: its name, OS, architecture and
// kernel (uname), memory (/proc/meminfo) and CPU use (/proc/stat, over the
// time since the previous sample).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace stratus::lattice {

struct MachineFacts {
  std::string hostname;
  std::string os_name;    // "linux", as wasmCloud's hosts say it
  std::string os_arch;    // "x86_64"
  std::string os_kernel;  // "6.1.0-18-amd64"
};
MachineFacts machine_facts();

struct MemoryUse {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  // MemAvailable: what can be had without swapping
};
MemoryUse memory_use();

// CPU use of the whole machine in percent (0-100) between two calls; the
// first call measures from the boot.
class CpuSampler {
 public:
  float sample();

 private:
  std::mutex mu_;
  uint64_t busy_ = 0, total_ = 0;
};

}  // namespace stratus::lattice

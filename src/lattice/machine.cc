#include "lattice/machine.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

namespace stratus::lattice {

MachineFacts machine_facts() {
  MachineFacts f;
  utsname u{};
  if (::uname(&u) == 0) {
    f.os_name = u.sysname;
    for (auto& c : f.os_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    f.os_arch = u.machine;
    f.os_kernel = u.release;
  }
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0) f.hostname = name;
  return f;
}

MemoryUse memory_use() {
  MemoryUse m;
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemTotal:") m.total_bytes = kib * 1024;
    if (key == "MemAvailable:") m.available_bytes = kib * 1024;
  }
  return m;
}

float CpuSampler::sample() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind("cpu ", 0) != 0) return 0;
  std::istringstream fields(line.substr(4));
  // user nice system idle iowait irq softirq steal (guest time is in user)
  uint64_t v[8] = {};
  for (auto& x : v) fields >> x;
  uint64_t idle = v[3] + v[4];
  uint64_t total = 0;
  for (auto x : v) total += x;
  uint64_t busy = total - idle;
  std::lock_guard lock(mu_);
  uint64_t d_total = total - total_, d_busy = busy - busy_;
  busy_ = busy;
  total_ = total;
  if (d_total == 0) return 0;
  return static_cast<float>(100.0 * static_cast<double>(d_busy) / static_cast<double>(d_total));
}

}  // namespace stratus::lattice

// Test helper: the known-failures lists of the conformance runners. CI fails
// on a failure not listed and on a listed one that now passes, so a list
// only shrinks.
#pragma once

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

namespace stratus::testing {

inline std::set<std::string> read_known_failures(const std::string& path) {
  std::set<std::string> known;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') known.insert(line);
  return known;
}

inline void write_known_failures(const std::string& path, const std::string& header,
                                 const std::set<std::string>& failed) {
  std::ofstream out(path);
  out << header;
  for (const auto& f : failed) out << f << "\n";
  std::printf("wrote %zu known failures to %s\n", failed.size(), path.c_str());
}

// Prints each failure not in `known` and each known one that did not fail,
// then a summary line for `suite`; true when the two sets are equal.
inline bool check_known_failures(const std::string& suite, const std::string& path, const std::set<std::string>& known,
                                 const std::set<std::string>& failed) {
  size_t unexpected = 0, fixed = 0;
  for (const auto& f : failed)
    if (known.count(f) == 0) {
      std::printf("new failure: %s\n", f.c_str());
      ++unexpected;
    }
  for (const auto& f : known)
    if (failed.count(f) == 0) {
      std::printf("now passes, remove from the known failures: %s\n", f.c_str());
      ++fixed;
    }
  std::printf("%s: %zu of %zu failures are known (%s); %zu new, %zu fixed\n", suite.c_str(), failed.size() - unexpected,
              failed.size(), path.c_str(), unexpected, fixed);
  return unexpected == 0 && fixed == 0;
}

}  // namespace stratus::testing

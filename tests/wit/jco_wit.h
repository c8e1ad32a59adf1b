// The WIT packages jco ships (node_modules/@bytecodealliance/jco/lib/wit):
// every folder of *.wit files outside a deps/ folder is a package root.
#pragma once

#include <algorithm>
#include <filesystem>
#include <vector>

namespace stratus::wit {

inline std::vector<std::filesystem::path> jco_package_roots() {
  namespace fs = std::filesystem;
  std::vector<fs::path> roots;
  for (const auto& e : fs::recursive_directory_iterator(STRATUS_JCO_WIT_DIR)) {
    if (!e.is_directory() || e.path().string().find("/deps") != std::string::npos) continue;
    bool has_wit = false;
    for (const auto& f : fs::directory_iterator(e.path())) has_wit = has_wit || f.path().extension() == ".wit";
    if (has_wit) roots.push_back(e.path());
  }
  std::sort(roots.begin(), roots.end());
  return roots;
}

}  // namespace stratus::wit

#include "wit/ast.h"

namespace stratus::wit {

std::string UsePath::to_string() const {
  std::string out;
  for (size_t i = 0; i < package.size(); ++i) out += package[i] + (i + 1 < package.size() ? ":" : "/");
  out += name;
  if (version) out += "@" + *version;
  return out;
}

std::string PackageName::to_string() const {
  std::string out;
  for (const auto& n : namespaces) out += n + ":";
  out += name;
  if (version) out += "@" + *version;
  return out;
}

}  // namespace stratus::wit

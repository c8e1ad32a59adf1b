#include "wit/cpp_names.h"

#include <set>

namespace stratus::wit {

bool cpp_keyword(const std::string& s) {
  static const std::set<std::string> kWords = {
      "alignas",  "alignof",  "and",      "asm",      "auto",      "bool",      "break",     "case",     "catch",
      "char",     "class",    "const",    "continue", "default",   "delete",    "do",        "double",   "else",
      "enum",     "explicit", "export",   "extern",   "false",     "float",     "for",       "friend",   "goto",
      "if",       "inline",   "int",      "long",     "mutable",   "namespace", "new",       "noexcept", "not",
      "nullptr",  "operator", "or",       "private",  "protected", "public",    "register",  "return",   "short",
      "signed",   "sizeof",   "static",   "struct",   "switch",    "template",  "this",      "throw",    "true",
      "try",      "typedef",  "typeid",   "typename", "union",     "unsigned",  "using",     "virtual",  "void",
      "volatile", "while",    "xor",      "concept",  "requires",  "co_await",  "co_return", "co_yield", "module",
      "import",   "final",    "override", "errno",    "stdin",     "stdout",    "stderr",    "EOF",
  };
  return kWords.count(s) != 0;
}

std::string snake(const std::string& kebab) {
  std::string out;
  for (char c : kebab) out.push_back(c == '-' ? '_' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  if (cpp_keyword(out)) out += "_";
  return out;
}

std::string camel(const std::string& kebab) {
  std::string out;
  bool up = true;
  for (char c : kebab) {
    if (c == '-') {
      up = true;
      continue;
    }
    bool upper = c >= 'A' && c <= 'Z';
    out.push_back(up && !upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A')
                                                       : (!up && upper ? static_cast<char>(c - 'A' + 'a') : c));
    up = false;
  }
  return out;
}

std::string string_literal(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string interface_namespace(const std::string& name) {
  std::string path = name.substr(0, name.find('@'));
  std::string ns;
  std::string part;
  for (size_t k = 0; k <= path.size(); ++k) {
    if (k == path.size() || path[k] == ':' || path[k] == '/') {
      if (!part.empty()) ns += (ns.empty() ? "" : "::") + snake(part);
      part.clear();
    } else {
      part.push_back(path[k]);
    }
  }
  return ns;
}

}  // namespace stratus::wit

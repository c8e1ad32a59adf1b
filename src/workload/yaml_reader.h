// The YAML walking shared by the workload spec (spec.cc) and wasmCloud's
// Kubernetes kinds (manifest.cc): a Reader that collects every problem with
// its field path, and the depth check run before yaml-cpp sees the text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stratus::workload::yaml {

// More than any workload needs, far fewer than an alias bomb expands to.
inline constexpr size_t kMaxNodes = 20'000;
// Problems listed per text.
inline constexpr size_t kMaxProblems = 100;

// Walks YAML nodes, collecting problems with their field paths instead of
// stopping at the first.
class Reader {
 public:
  std::vector<std::string> problems;

  // At most kMaxProblems, then one line saying there were more: a text
  // whose aliases repeat long keys would otherwise make gigabytes of paths.
  void problem(const std::string& path, const std::string& what) {
    if (problems.size() > kMaxProblems) return;
    if (problems.size() == kMaxProblems) {
      problems.emplace_back("(more problems, not listed)");
      return;
    }
    problems.push_back((path.empty() ? std::string("(top)") : path) + ": " + what);
  }

  // Calls `field` for each key of a map node; unknown keys are problems.
  void fields(const YAML::Node& node, const std::string& path, const std::vector<std::string>& known,
              const std::function<void(const std::string&, const YAML::Node&, const std::string&)>& field) {
    if (!node.IsMap()) {
      if (!node.IsNull()) problem(path, "expected a map of fields");
      return;
    }
    for (const auto& kv : node) {
      std::string key;
      if (!scalar(kv.first, path, key)) continue;
      std::string sub = path.empty() ? key : path + "." + key;
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        problem(sub, "unknown field (expected one of: " + list + ")");
        continue;
      }
      field(key, kv.second, sub);
    }
  }

  bool scalar(const YAML::Node& node, const std::string& path, std::string& out) {
    if (!node.IsScalar()) {
      problem(path, std::string("expected a string, found ") + kind(node));
      return false;
    }
    out = node.Scalar();
    return true;
  }

  template <class Int>
  bool integer(const YAML::Node& node, const std::string& path, Int& out) {
    std::string text;
    if (!scalar(node, path, text)) return false;
    try {
      size_t used = 0;
      long long v = std::stoll(text, &used, 10);
      if (used != text.size()) throw std::invalid_argument(text);
      bool in_range = false;
      if constexpr (std::is_signed_v<Int>) {
        in_range = v >= static_cast<long long>(std::numeric_limits<Int>::min()) &&
                   v <= static_cast<long long>(std::numeric_limits<Int>::max());
      } else {
        in_range = v >= 0 && static_cast<unsigned long long>(v) <=
                                 static_cast<unsigned long long>(std::numeric_limits<Int>::max());
      }
      if (!in_range) {
        problem(path, "'" + text + "' is out of range");
        return false;
      }
      out = static_cast<Int>(v);
      return true;
    } catch (const std::exception&) {
      problem(path, "expected an integer, found '" + text + "'");
      return false;
    }
  }

  bool boolean(const YAML::Node& node, const std::string& path, bool& out) {
    std::string text;
    if (!scalar(node, path, text)) return false;
    if (text == "true") {
      out = true;
    } else if (text == "false") {
      out = false;
    } else {
      problem(path, "expected true or false, found '" + text + "'");
      return false;
    }
    return true;
  }

  void string_map(const YAML::Node& node, const std::string& path, std::map<std::string, std::string>& out) {
    if (!node.IsMap()) {
      if (!node.IsNull()) problem(path, std::string("expected a map of strings, found ") + kind(node));
      return;
    }
    for (const auto& kv : node) {
      std::string key, value;
      if (!scalar(kv.first, path, key)) continue;
      if (scalar(kv.second, path + "." + key, value)) out[key] = value;
    }
  }

  template <class T>
  void list(const YAML::Node& node, const std::string& path, std::vector<T>& out,
            const std::function<bool(const YAML::Node&, const std::string&, T&)>& item) {
    if (!node.IsSequence()) {
      if (!node.IsNull()) problem(path, std::string("expected a list, found ") + kind(node));
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      T value{};
      if (item(node[i], path + "[" + std::to_string(i) + "]", value)) out.push_back(std::move(value));
    }
  }

  void strings(const YAML::Node& node, const std::string& path, std::vector<std::string>& out) {
    list<std::string>(node, path, out,
                      [this](const YAML::Node& n, const std::string& p, std::string& v) { return scalar(n, p, v); });
  }

  static const char* kind(const YAML::Node& node) {
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    if (node.IsNull()) return "nothing";
    return "a scalar";
  }
};

// Why `text` is refused before parsing (too large, nested too deeply), or
// nullopt.
std::optional<std::string> too_deep(std::string_view text);

// Why the documents of `text` are not read (more than kMaxDocuments of
// them), or nullopt. yaml-cpp 0.7's parser can return empty documents
// without end from a few bytes (a stray directive): YAML::LoadAll would
// then fill memory; this counts them first with a parser that builds nothing.
inline constexpr size_t kMaxDocuments = 1000;
std::optional<std::string> too_many_documents(std::string_view text);

// Whether walking `node` visits more nodes than `left` (which it counts
// down, so several documents can share one budget). Aliases share nodes,
// so a small text can stand for billions of them ("a billion laughs"); the
// readers refuse such a text before walking it.
bool too_many_nodes(const YAML::Node& node, size_t& left);

}  // namespace stratus::workload::yaml

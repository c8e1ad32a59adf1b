#include "workload/yaml_reader.h"

#include <sstream>

#include <yaml-cpp/eventhandler.h>

namespace stratus::workload::yaml {
namespace {

// yaml-cpp parses nested collections recursively: a hostile spec nested
// thousands deep would exhaust the stack. Specs are small and shallow, so
// the text is refused before parsing past these bounds.
constexpr size_t kMaxSpecBytes = 1 << 20;
constexpr int kMaxFlowDepth = 32;
constexpr size_t kMaxIndent = 128;

}  // namespace

std::optional<std::string> too_deep(std::string_view text) {
  if (text.size() > kMaxSpecBytes) return "larger than 1 MiB";
  int depth = 0;
  char quote = 0;
  size_t line = 1, indent = 0;
  bool at_line_start = true;
  char prev = ' ';  // the character before this one, on this line
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      indent = 0;
      at_line_start = true;
      prev = ' ';
      continue;
    }
    if (quote != 0) {  // inside a quoted scalar (which may span lines)
      if (c == quote) quote = 0;
      if (c == '\\' && quote == '"') ++i;
      prev = c;
      continue;
    }
    if (at_line_start && (c == ' ' || c == '-')) {
      if (++indent > kMaxIndent) return "line " + std::to_string(line) + " is nested too deeply";
      prev = c;
      continue;
    }
    at_line_start = false;
    // A quote or a comment starts only where a token may (YAML: "don't" and
    // "a#b" are plain text).
    bool token_start = prev == ' ' || prev == '\t' || prev == '[' || prev == '{' || prev == ',' || prev == ':' ||
                       prev == '-' || prev == '?';
    if ((c == '"' || c == '\'') && token_start) {
      quote = c;
    } else if (c == '#' && (prev == ' ' || prev == '\t')) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return "line " + std::to_string(line) + " nests [ and { too deeply";
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    prev = c;
  }
  return std::nullopt;
}

namespace {

bool exceeds(const YAML::Node& node, size_t& left) {
  if (left == 0) return true;
  --left;
  if (node.IsMap()) {
    for (const auto& kv : node)
      if (exceeds(kv.first, left) || exceeds(kv.second, left)) return true;
  } else if (node.IsSequence()) {
    for (const auto& item : node)
      if (exceeds(item, left)) return true;
  }
  return false;
}

}  // namespace

bool too_many_nodes(const YAML::Node& node, size_t& left) { return exceeds(node, left); }

namespace {

// Takes a document's events and keeps nothing.
class Discard : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

std::optional<std::string> too_many_documents(std::string_view text) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  Discard discard;
  size_t documents = 0;
  try {
    while (parser.HandleNextDocument(discard)) {
      if (++documents > kMaxDocuments) return "more than " + std::to_string(kMaxDocuments) + " YAML documents";
    }
  } catch (const YAML::Exception&) {
    // Not too many: the reader that follows reports the syntax error where it is.
  }
  return std::nullopt;
}

}  // namespace stratus::workload::yaml

#include "engine/aot/split.h"

#include <string_view>

namespace stratus::engine::aot {
namespace {

struct Line {
  size_t begin, end;  // [begin, end) without the newline; next line at end + 1
};

std::vector<Line> lines_of(const std::string& s) {
  std::vector<Line> out;
  size_t at = 0;
  while (at < s.size()) {
    size_t nl = s.find('\n', at);
    if (nl == std::string::npos) nl = s.size();
    out.push_back({at, nl});
    at = nl + 1;
  }
  return out;
}

bool starts(std::string_view line, std::string_view prefix) { return line.substr(0, prefix.size()) == prefix; }
bool ends(std::string_view line, std::string_view suffix) {
  return line.size() >= suffix.size() && line.substr(line.size() - suffix.size()) == suffix;
}

// "static T w2c_name(...)" up to its parameters: a wasm function's.
bool is_function_head(std::string_view line) {
  if (!starts(line, "static ")) return false;
  size_t paren = line.find('(');
  if (paren == std::string_view::npos) return false;
  size_t name = line.rfind(' ', paren);
  return name != std::string_view::npos && starts(line.substr(name + 1), "w2c_");
}

}  // namespace

std::vector<std::string> split_source(const std::string& source, size_t parts) {
  if (parts < 2) return {source};
  const auto lines = lines_of(source);
  auto text = [&](size_t i) { return std::string_view(source).substr(lines[i].begin, lines[i].end - lines[i].begin); };

  // The function declarations: one run of "static ... w2c_f(...);" lines.
  size_t first_decl = lines.size();
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_function_head(text(i)) && ends(text(i), ");")) {
      first_decl = i;
      break;
    }
  if (first_decl == lines.size()) return {source};
  size_t decl_end = first_decl;
  while (decl_end < lines.size() &&
         (text(decl_end).empty() || (is_function_head(text(decl_end)) && ends(text(decl_end), ");"))))
    ++decl_end;

  // The bodies: "static ... w2c_f(...) {" to "}", one after another.
  struct Body {
    size_t head, last;  // line indices
  };
  std::vector<Body> bodies;
  for (size_t i = decl_end; i < lines.size(); ++i) {
    if (!(is_function_head(text(i)) && ends(text(i), ") {"))) continue;
    if (!bodies.empty()) {
      for (size_t k = bodies.back().last + 1; k < i; ++k)
        if (!text(k).empty()) return {source};  // something else between bodies
    }
    size_t j = i + 1;
    while (j < lines.size() && text(j) != "}") ++j;
    if (j == lines.size()) return {source};
    bodies.push_back({i, j});
    i = j;
  }
  if (bodies.size() < 2) return {source};

  auto unstatic = [](std::string_view line) { return std::string(line.substr(7)); };
  const std::string table = "static u32 func_types[";
  // The top each part starts with: everything before the declarations'
  // end, the table extern, the declarations not static.
  std::string top;
  for (size_t i = 0; i < decl_end; ++i) {
    std::string_view l = text(i);
    if (i >= first_decl && !l.empty())
      top += unstatic(l);
    else if (starts(l, table))
      top += "extern " + std::string(l.substr(7));
    else
      top += l;
    top += '\n';
  }

  // Shares by size, in order (neighbours call each other most).
  size_t total = 0;
  for (const auto& b : bodies) total += lines[b.last].end - lines[b.head].begin;
  std::vector<size_t> part_of(bodies.size());
  size_t done = 0;
  for (size_t k = 0; k < bodies.size(); ++k) {
    part_of[k] = std::min(parts - 1, done * parts / (total + 1));
    std::string_view body = std::string_view(source).substr(lines[bodies[k].head].begin,
                                                            lines[bodies[k].last].end - lines[bodies[k].head].begin);
    done += body.size();
    if (body.find("data_segment_data_") != std::string_view::npos ||
        body.find("elem_segment_exprs_") != std::string_view::npos)
      part_of[k] = 0;  // uses a static segment: stays with it
  }

  std::vector<std::string> out(parts);
  for (size_t p = 1; p < parts; ++p) out[p] = top;
  std::string& main = out[0];
  size_t body_index = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = text(i);
    if (body_index < bodies.size() && i == bodies[body_index].head) {
      const Body& b = bodies[body_index];
      std::string& to = out[part_of[body_index]];
      to += unstatic(l);
      to += '\n';
      for (size_t k = b.head + 1; k <= b.last; ++k) {
        to += text(k);
        to += '\n';
      }
      to += '\n';
      i = b.last;
      ++body_index;
      continue;
    }
    if (i >= first_decl && i < decl_end && !l.empty())
      main += unstatic(l);
    else if (starts(l, table))
      main += l.substr(7);
    else
      main += l;
    main += '\n';
  }
  // A part that got no body is dropped.
  std::vector<std::string> kept;
  for (size_t p = 0; p < parts; ++p)
    if (p == 0 || out[p].size() > top.size()) kept.push_back(std::move(out[p]));
  return kept;
}

}  // namespace stratus::engine::aot

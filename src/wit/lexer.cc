#include "wit/lexer.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "support/utf8.h"

namespace stratus::wit {
namespace {

constexpr std::string_view kKeywords[] = {
    "as",   "async", "bool",   "borrow", "char",    "constructor", "enum",     "error-context", "export",
    "f32",  "f64",   "flags",  "from",   "func",    "future",      "import",   "include",       "interface",
    "list", "map",   "option", "own",    "package", "record",      "resource", "result",        "s16",
    "s32",  "s64",   "s8",     "static", "stream",  "string",      "tuple",    "type",          "u16",
    "u32",  "u64",   "u8",     "use",    "variant", "with",        "world",
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The scalar at `s[i]` and its length in bytes; 0 when malformed.
size_t utf8_scalar(std::string_view s, size_t i, uint32_t& cp) {
  size_t j = i;
  auto v = next_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size(), j);
  if (!v) return 0;
  cp = *v;
  return j - i;
}

// Each word of a kebab-case label is all lower case or all upper case
// (digits anywhere but first); words are joined by single dashes.
bool is_label(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  for (;;) {
    size_t j = std::min(s.find('-', i), s.size());
    std::string_view word = s.substr(i, j - i);
    if (word.empty() || !is_alpha(word[0])) return false;
    bool lower = word[0] >= 'a';
    for (char c : word)
      if (!is_digit(c) && !(lower ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z'))) return false;
    if (j == s.size()) return true;
    i = j + 1;
  }
}

}  // namespace

bool is_keyword(std::string_view word) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

Pos Lexer::pos_of(size_t offset) {
  if (offset < counted_) {
    line_ = 1;
    line_start_ = 0;
    counted_ = 0;
  }
  for (; counted_ < offset && counted_ < src_.size(); ++counted_) {
    if (src_[counted_] == '\n') {
      ++line_;
      line_start_ = counted_ + 1;
    }
  }
  return Pos{line_, static_cast<uint32_t>(offset - line_start_ + 1)};
}

Error Lexer::error_at(Pos pos, const std::string& message) const {
  return make_error(file_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message);
}

// WIT.md: valid UTF-8, no control codes but newline, carriage return and
// tab, no bidirectional overrides, no deprecated code points.
Result<void> Lexer::check_char(size_t at) {
  uint32_t cp = 0;
  size_t n = utf8_scalar(src_, at, cp);
  if (n == 0) return error_at(pos_of(at), "invalid UTF-8");
  bool control = (cp < 0x20 && cp != '\n' && cp != '\r' && cp != '\t') || (cp >= 0x7f && cp < 0xa0);
  bool bidi = (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
  bool deprecated = cp == 0x149 || cp == 0x673 || cp == 0xf77 || cp == 0xf79 || (cp >= 0x17a3 && cp <= 0x17a4) ||
                    (cp >= 0x206a && cp <= 0x206f) || (cp >= 0x2329 && cp <= 0x232a) || cp == 0xe0001;
  if (control || bidi || deprecated) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return error_at(pos_of(at), std::string("character ") + buf + " is not allowed in WIT");
  }
  return {};
}

Result<void> Lexer::skip_space_and_comments(std::string& docs) {
  while (at_ < src_.size()) {
    char c = src_[at_];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      ++at_;
      continue;
    }
    if (c != '/' || at_ + 1 >= src_.size() || (src_[at_ + 1] != '/' && src_[at_ + 1] != '*')) return {};
    size_t start = at_;
    if (src_[at_ + 1] == '/') {
      size_t eol = src_.find('\n', at_);
      if (eol == std::string_view::npos) eol = src_.size();
      for (size_t i = at_; i < eol; ++i)
        if (static_cast<unsigned char>(src_[i]) >= 0x80 || src_[i] < 0x20) STRATUS_TRY(check_char(i));
      std::string_view body = src_.substr(at_ + 2, eol - at_ - 2);
      // `///` is a doc comment, `////` is not.
      if (!body.empty() && body[0] == '/' && (body.size() < 2 || body[1] != '/')) {
        std::string_view text = body.substr(1);
        if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        docs.append(text);
        docs.push_back('\n');
      }
      at_ = eol;
      continue;
    }
    // Block comments nest.
    int depth = 0;
    size_t i = at_;
    while (i < src_.size()) {
      if (src_.compare(i, 2, "/*") == 0) {
        ++depth;
        i += 2;
      } else if (src_.compare(i, 2, "*/") == 0) {
        --depth;
        i += 2;
        if (depth == 0) break;
      } else {
        if (static_cast<unsigned char>(src_[i]) >= 0x80 || src_[i] < 0x20) STRATUS_TRY(check_char(i));
        ++i;
      }
    }
    if (depth != 0) return error_at(pos_of(start), "unterminated block comment");
    std::string_view all = src_.substr(start, i - start);
    // `/** ... */` is a doc comment, `/**/` and `/*** ...` are not.
    if (all.size() > 5 && all[2] == '*' && all[3] != '*') {
      std::string_view text = all.substr(3, all.size() - 5);
      while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
      docs.append(text);
      docs.push_back('\n');
    }
    at_ = i;
  }
  return {};
}

Result<Token> Lexer::next() {
  Token t;
  STRATUS_TRY(skip_space_and_comments(t.docs));
  t.begin = at_;
  t.pos = pos_of(at_);
  if (at_ >= src_.size()) {
    t.kind = Token::Kind::End;
    t.end = at_;
    return t;
  }
  char c = src_[at_];
  if (c == '%' || is_alpha(c)) return identifier(std::move(t), c == '%');
  if (is_digit(c)) {
    // Numbers only appear in versions and fixed list lengths; a version
    // (`0.2.0-rc-2023-11-10+build.1`) is taken whole and checked by the parser.
    // A dot belongs to it only when more of it follows (`@0.2.0.{a, b}`).
    size_t i = at_;
    auto part_of_number = [&](size_t k) {
      char ch = src_[k];
      if (is_alpha(ch) || is_digit(ch) || ch == '-' || ch == '+') return true;
      return ch == '.' && k + 1 < src_.size() && (is_alpha(src_[k + 1]) || is_digit(src_[k + 1]));
    };
    while (i < src_.size() && part_of_number(i)) ++i;
    t.kind = Token::Kind::Number;
    t.text = std::string(src_.substr(at_, i - at_));
    at_ = t.end = i;
    return t;
  }
  if (c == '"') return string_literal(std::move(t));
  if (c == '-' && at_ + 1 < src_.size() && src_[at_ + 1] == '>') {
    t.kind = Token::Kind::Op;
    t.text = "->";
    at_ = t.end = at_ + 2;
    return t;
  }
  if (std::string_view("=,:;(){}<>*/.@").find(c) != std::string_view::npos) {
    t.kind = Token::Kind::Op;
    t.text = std::string(1, c);
    at_ = t.end = at_ + 1;
    return t;
  }
  if (c == '_') {
    t.kind = Token::Kind::Id;
    t.text = "_";
    t.keyword = true;
    at_ = t.end = at_ + 1;
    return t;
  }
  STRATUS_TRY(check_char(at_));
  uint32_t cp = 0;
  size_t n = utf8_scalar(src_, at_, cp);
  return error_at(t.pos, "unexpected character `" + std::string(src_.substr(at_, n)) + "`");
}

Result<Token> Lexer::identifier(Token t, bool explicit_id) {
  size_t start = at_ + (explicit_id ? 1 : 0);
  size_t i = start;
  while (i < src_.size() && (is_alpha(src_[i]) || is_digit(src_[i]) || src_[i] == '-')) ++i;
  std::string_view word = src_.substr(start, i - start);
  if (!is_label(word)) {
    if (word.empty()) return error_at(t.pos, "expected an identifier after `%`");
    return error_at(t.pos, "`" + std::string(word) +
                               "` is not a valid identifier: words must be all lower case or all upper case, "
                               "start with a letter and be joined by single dashes");
  }
  t.kind = Token::Kind::Id;
  t.text = std::string(word);
  t.keyword = !explicit_id && is_keyword(word);
  at_ = t.end = i;
  return t;
}

Result<Token> Lexer::string_literal(Token t) {
  size_t i = at_ + 1;
  std::string out;
  while (true) {
    if (i >= src_.size() || src_[i] == '\n') return error_at(t.pos, "unterminated string literal");
    char c = src_[i];
    if (c == '"') break;
    if (c != '\\') {
      STRATUS_TRY(check_char(i));
      uint32_t cp = 0;
      size_t n = utf8_scalar(src_, i, cp);
      out.append(src_.substr(i, n));
      i += n;
      continue;
    }
    if (i + 1 >= src_.size()) return error_at(pos_of(i), "unterminated escape");
    char e = src_[i + 1];
    auto hex = [](char h) -> int {
      if (is_digit(h)) return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    switch (e) {
      case 't':
        out.push_back('\t');
        i += 2;
        break;
      case 'n':
        out.push_back('\n');
        i += 2;
        break;
      case 'r':
        out.push_back('\r');
        i += 2;
        break;
      case '"':
        out.push_back('"');
        i += 2;
        break;
      case '\'':
        out.push_back('\'');
        i += 2;
        break;
      case '\\':
        out.push_back('\\');
        i += 2;
        break;
      case 'u': {
        if (i + 2 >= src_.size() || src_[i + 2] != '{') return error_at(pos_of(i), "invalid \\u escape");
        size_t j = i + 3;
        uint32_t cp = 0;
        size_t digits = 0;
        while (j < src_.size() && hex(src_[j]) >= 0 && digits < 7) {
          cp = cp * 16 + static_cast<uint32_t>(hex(src_[j]));
          ++j;
          ++digits;
        }
        if (digits == 0 || j >= src_.size() || src_[j] != '}' || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
          return error_at(pos_of(i), "invalid \\u escape");
        append_utf8(out, cp);
        i = j + 1;
        break;
      }
      default: {
        // `\XY`: a byte in hex; the result must still be valid UTF-8.
        if (i + 2 >= src_.size() || hex(e) < 0 || hex(src_[i + 2]) < 0) return error_at(pos_of(i), "invalid escape");
        out.push_back(static_cast<char>(hex(e) * 16 + hex(src_[i + 2])));
        i += 3;
      }
    }
  }
  for (size_t k = 0; k < out.size();) {
    uint32_t cp = 0;
    size_t n = utf8_scalar(out, k, cp);
    if (n == 0) return error_at(t.pos, "string literal is not valid UTF-8");
    k += n;
  }
  t.kind = Token::Kind::String;
  t.text = std::move(out);
  at_ = t.end = i + 1;
  return t;
}

}  // namespace stratus::wit

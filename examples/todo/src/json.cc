#include "json.h"

#include <cstdint>

namespace todo::json {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::expected<std::vector<Member>, std::string> object_document() {
    skip_space();
    if (peek() != '{') return fail("expected a JSON object");
    std::vector<Member> members;
    if (!object(0, &members)) return std::unexpected(error_);
    skip_space();
    if (at_ != text_.size()) return fail("text after the object");
    return members;
  }

 private:
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  std::unexpected<std::string> fail(std::string_view what) {
    error_ = "at byte " + std::to_string(at_) + ": " + std::string(what);
    return std::unexpected(error_);
  }
  bool expect(char c) {
    skip_space();
    if (peek() != c) return fail(std::string("expected '") + c + "'"), false;
    ++at_;
    return true;
  }

  // An object; its members go to `members` when it is not null (the top level).
  bool object(int depth, std::vector<Member>* members) {
    if (depth > kMaxDepth) return fail("nested too deep"), false;
    ++at_;  // '{'
    skip_space();
    if (peek() == '}') return ++at_, true;
    for (;;) {
      skip_space();
      if (peek() != '"') return fail("expected a member name in quotes"), false;
      std::string key;
      if (!string(&key) || !expect(':')) return false;
      skip_space();
      bool is_string = peek() == '"';
      std::string text;
      if (is_string ? !string(&text) : !value(depth + 1)) return false;
      if (members) members->push_back({std::move(key), is_string ? std::optional(std::move(text)) : std::nullopt});
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() == '}') return ++at_, true;
      return fail("expected ',' or '}'"), false;
    }
  }

  bool array(int depth) {
    if (depth > kMaxDepth) return fail("nested too deep"), false;
    ++at_;  // '['
    skip_space();
    if (peek() == ']') return ++at_, true;
    for (;;) {
      if (!value(depth + 1)) return false;
      skip_space();
      if (peek() == ',') {
        ++at_;
        continue;
      }
      if (peek() == ']') return ++at_, true;
      return fail("expected ',' or ']'"), false;
    }
  }

  bool value(int depth) {
    skip_space();
    char c = peek();
    if (c == '{') return object(depth, nullptr);
    if (c == '[') return array(depth);
    if (c == '"') return string(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(at_, word.size()) == word) return at_ += word.size(), true;
    }
    return fail("expected a value"), false;
  }

  bool number() {
    size_t start = at_;
    if (peek() == '-') ++at_;
    auto digits = [&] {
      size_t from = at_;
      while (peek() >= '0' && peek() <= '9') ++at_;
      return at_ > from;
    };
    if (peek() == '0') {
      ++at_;
    } else if (!digits()) {
      return fail("a number without digits"), false;
    }
    if (peek() == '.' && (++at_, !digits())) return fail("no digits after '.'"), false;
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') ++at_;
      if (!digits()) return fail("no digits in the exponent"), false;
    }
    return at_ > start;
  }

  bool hex4(uint32_t& out) {
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      int v = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
      if (v < 0) return fail("expected 4 hex digits after \\u"), false;
      out = out * 16 + static_cast<uint32_t>(v);
      ++at_;
    }
    return true;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // One UTF-8 scalar value copied from the input; false on a bad sequence.
  bool utf8(std::string* out) {
    auto b = static_cast<unsigned char>(peek());
    size_t size = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    if (size == 0 || at_ + size > text_.size()) return fail("invalid UTF-8"), false;
    uint32_t cp = size == 1 ? b : size == 2 ? (b & 0x1f) : size == 3 ? (b & 0x0f) : (b & 0x07);
    for (size_t i = 1; i < size; ++i) {
      auto c = static_cast<unsigned char>(text_[at_ + i]);
      if ((c & 0xc0) != 0x80) return fail("invalid UTF-8"), false;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[size] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return fail("invalid UTF-8"), false;
    if (out) out->append(text_.substr(at_, size));
    at_ += size;
    return true;
  }

  bool string(std::string* out) {
    size_t start = at_++;  // '"'
    for (;;) {
      if (at_ >= text_.size()) return at_ = start, fail("a string without its closing quote"), false;
      char c = text_[at_];
      if (c == '"') return ++at_, true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("a control character in a string"), false;
      if (c != '\\') {
        if (!utf8(out)) return false;
        continue;
      }
      ++at_;
      char e = peek();
      ++at_;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          if (out) *out += e;
          break;
        case 'b':
          if (out) *out += '\b';
          break;
        case 'f':
          if (out) *out += '\f';
          break;
        case 'n':
          if (out) *out += '\n';
          break;
        case 'r':
          if (out) *out += '\r';
          break;
        case 't':
          if (out) *out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low = 0;
            if (peek() != '\\' || text_.substr(at_ + 1, 1) != "u") return fail("a lone surrogate"), false;
            at_ += 2;
            if (!hex4(low)) return false;
            if (low < 0xdc00 || low > 0xdfff) return fail("a lone surrogate"), false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return fail("a lone surrogate"), false;
          }
          if (out) append_utf8(*out, cp);
          break;
        }
        default: return --at_, fail("an unknown escape"), false;
      }
    }
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

std::expected<std::vector<Member>, std::string> parse_object(std::string_view text) {
  return Parser(text).object_document();
}

std::string quote(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace todo::json

// Tokens of WIT text (WIT.md "Lexical structure").
#pragma once

#include <string>
#include <string_view>

#include "support/result.h"
#include "wit/ast.h"

namespace stratus::wit {

struct Token {
  enum class Kind : uint8_t {
    End,
    Id,      // an identifier; `keyword` when it is a bare keyword
    Number,  // a run starting with a digit: an integer or a version
    String,  // a string literal, `text` unescaped
    Op,      // = , : ; ( ) { } < > * -> / . @
  };
  Kind kind = Kind::End;
  std::string text;  // the identifier (without `%`), number, string or operator
  bool keyword = false;
  Pos pos;
  size_t begin = 0, end = 0;  // byte offsets in the source
  std::string docs;           // doc comments right before the token
};

class Lexer {
 public:
  Lexer(std::string_view source, std::string file) : src_(source), file_(std::move(file)) {}

  // The next token; an error names file:line:column and what is wrong.
  Result<Token> next();

  // An error at `pos` in this file.
  Error error_at(Pos pos, const std::string& message) const;
  const std::string& file() const { return file_; }

 private:
  Result<void> skip_space_and_comments(std::string& docs);
  Result<void> check_char(size_t at);
  Pos pos_of(size_t offset);
  Result<Token> identifier(Token t, bool explicit_id);
  Result<Token> string_literal(Token t);

  std::string_view src_;
  std::string file_;
  size_t at_ = 0;
  // The position of `line_start_`: line numbers are counted incrementally.
  size_t line_start_ = 0;
  uint32_t line_ = 1;
  size_t counted_ = 0;
};

// Whether `word` is a WIT keyword.
bool is_keyword(std::string_view word);

}  // namespace stratus::wit

// Log scanning as a component filtering log records does it: 1,500
// generated lines (nginx access lines and key=value application lines) are
// tokenized and searched N times with a small backtracking regular-expression
// engine written here (groups, alternation, classes, \d \w \s, * + ? and
// lazy forms, anchors; compiled to a bytecode run recursively, as in
// Pike's and Cox's backtracking VMs); captures feed counters and a checksum.
#include <string.h>

#include "common.h"

// ---------------------------------------------------------------- regex

enum Op { kChar, kAny, kClass, kSplit, kJmp, kSave, kBol, kEol, kMatch };

// x and y are relative jump offsets (split: try pc+x first, then pc+y), so a
// block of code can be moved when a quantifier or an alternative is put
// before it.
typedef struct {
  unsigned char op, c;
  short x, y;
  unsigned short cls;
} Inst;

enum { kMaxInsts = 512, kMaxClasses = 64, kMaxSaves = 20 };

typedef struct {
  Inst code[kMaxInsts];
  int len;
  uint8_t classes[kMaxClasses][32];
  int nclasses;
  int ngroups;
  int first_char;  // a literal every match starts with, or -1
  const char* error;
  const char* src;
} Regex;

static void emit_inst(Regex* re, Inst in) {
  if (re->len == kMaxInsts) {
    re->error = "pattern too long";
    return;
  }
  re->code[re->len++] = in;
}

// Puts `in` at `at`, moving the code after it up by one.
static void insert_inst(Regex* re, int at, Inst in) {
  if (re->len == kMaxInsts) {
    re->error = "pattern too long";
    return;
  }
  memmove(&re->code[at + 1], &re->code[at], sizeof(Inst) * (size_t)(re->len - at));
  re->code[at] = in;
  ++re->len;
}

static void class_set(uint8_t* set, int c) { set[c >> 3] |= (uint8_t)(1u << (c & 7)); }
static int class_has(const uint8_t* set, int c) { return (set[c >> 3] >> (c & 7)) & 1; }

static void class_escape(uint8_t* set, char e) {
  for (int c = 0; c < 256; ++c) {
    int digit = c >= '0' && c <= '9';
    int word = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if ((e == 'd' && digit) || (e == 'w' && word) || (e == 's' && space)) class_set(set, c);
  }
}

static int new_class(Regex* re) {
  if (re->nclasses == kMaxClasses) {
    re->error = "too many classes";
    return 0;
  }
  memset(re->classes[re->nclasses], 0, 32);
  return re->nclasses++;
}

static void parse_alt(Regex* re);

static void parse_atom(Regex* re) {
  char c = *re->src++;
  Inst in = {0};
  switch (c) {
    case '.': in.op = kAny; break;
    case '^': in.op = kBol; break;
    case '$': in.op = kEol; break;
    case '(': {
      int group = ++re->ngroups;
      if (group * 2 + 1 >= kMaxSaves) {
        re->error = "too many groups";
        return;
      }
      emit_inst(re, (Inst){kSave, 0, 0, 0, (unsigned short)(group * 2)});
      parse_alt(re);
      if (*re->src != ')') {
        re->error = "missing )";
        return;
      }
      ++re->src;
      emit_inst(re, (Inst){kSave, 0, 0, 0, (unsigned short)(group * 2 + 1)});
      return;
    }
    case '[': {
      int k = new_class(re);
      uint8_t* set = re->classes[k];
      int negate = *re->src == '^';
      if (negate) ++re->src;
      int first = 1;
      while (*re->src && (*re->src != ']' || first)) {
        first = 0;
        char a = *re->src++;
        if (a == '\\' && *re->src) {
          char e = *re->src++;
          if (e == 'd' || e == 'w' || e == 's')
            class_escape(set, e);
          else
            class_set(set, (uint8_t)e);
          continue;
        }
        if (*re->src == '-' && re->src[1] && re->src[1] != ']') {
          char b = re->src[1];
          re->src += 2;
          for (int x = (uint8_t)a; x <= (uint8_t)b; ++x) class_set(set, x);
          continue;
        }
        class_set(set, (uint8_t)a);
      }
      if (*re->src != ']') {
        re->error = "missing ]";
        return;
      }
      ++re->src;
      if (negate)
        for (int i = 0; i < 32; ++i) set[i] = (uint8_t)~set[i];
      in.op = kClass;
      in.cls = (unsigned short)k;
      break;
    }
    case '\\': {
      char e = *re->src;
      if (!e) {
        re->error = "trailing backslash";
        return;
      }
      ++re->src;
      if (e == 'd' || e == 'w' || e == 's') {
        int k = new_class(re);
        class_escape(re->classes[k], e);
        in.op = kClass;
        in.cls = (unsigned short)k;
      } else {
        in.op = kChar;
        in.c = (unsigned char)e;
      }
      break;
    }
    default:
      in.op = kChar;
      in.c = (unsigned char)c;
      break;
  }
  emit_inst(re, in);
}

static void parse_seq(Regex* re) {
  while (*re->src && *re->src != '|' && *re->src != ')' && !re->error) {
    int start = re->len;
    parse_atom(re);
    char q = *re->src;
    if (q != '*' && q != '+' && q != '?') continue;
    ++re->src;
    int lazy = *re->src == '?';
    if (lazy) ++re->src;
    int body = re->len - start;
    // Greedy tries the body first; lazy tries to skip it first.
    short in_body = 1, past = (short)(body + (q == '?' ? 1 : 2));
    Inst split = {kSplit, 0, lazy ? past : in_body, lazy ? in_body : past, 0};
    if (q == '+') {
      // body; split(back to body, on)
      short back = (short)-body;
      emit_inst(re, (Inst){kSplit, 0, lazy ? 1 : back, lazy ? back : 1, 0});
    } else {
      insert_inst(re, start, split);
      if (q == '*') emit_inst(re, (Inst){kJmp, 0, (short)-(body + 1), 0, 0});
    }
  }
}

static void parse_alt(Regex* re) {
  int start = re->len;
  parse_seq(re);
  while (*re->src == '|' && !re->error) {
    ++re->src;
    // split(first, second); first; jmp end; second
    int first_len = re->len - start;
    emit_inst(re, (Inst){kJmp, 0, 0, 0, 0});
    insert_inst(re, start, (Inst){kSplit, 0, 1, (short)(first_len + 2), 0});
    int jmp = re->len - 1;
    parse_seq(re);
    re->code[jmp].x = (short)(re->len - jmp);
  }
}

static int compile(Regex* re, const char* pattern) {
  memset(re, 0, sizeof *re);
  re->src = pattern;
  emit_inst(re, (Inst){kSave, 0, 0, 0, 0});
  parse_alt(re);
  if (!re->error && *re->src) re->error = "unbalanced )";
  emit_inst(re, (Inst){kSave, 0, 0, 0, 1});
  emit_inst(re, (Inst){kMatch, 0, 0, 0, 0});
  re->first_char = re->code[1].op == kChar ? re->code[1].c : -1;
  return re->error == NULL;
}

typedef struct {
  const Regex* re;
  const char* begin;
  const char* end;
  const char* saves[kMaxSaves];
} Match;

static int run(Match* m, int pc, const char* sp) {
  const Inst* code = m->re->code;
  for (;;) {
    const Inst* in = &code[pc];
    switch (in->op) {
      case kChar:
        if (sp == m->end || (unsigned char)*sp != in->c) return 0;
        ++sp;
        ++pc;
        break;
      case kAny:
        if (sp == m->end || *sp == '\n') return 0;
        ++sp;
        ++pc;
        break;
      case kClass:
        if (sp == m->end || !class_has(m->re->classes[in->cls], (uint8_t)*sp)) return 0;
        ++sp;
        ++pc;
        break;
      case kSplit:
        if (run(m, pc + in->x, sp)) return 1;
        pc += in->y;
        break;
      case kJmp: pc += in->x; break;
      case kSave: {
        const char* old = m->saves[in->cls];
        m->saves[in->cls] = sp;
        if (run(m, pc + 1, sp)) return 1;
        m->saves[in->cls] = old;
        return 0;
      }
      case kBol:
        if (sp != m->begin) return 0;
        ++pc;
        break;
      case kEol:
        if (sp != m->end) return 0;
        ++pc;
        break;
      default: return 1;  // kMatch
    }
  }
}

// Leftmost match anywhere in [begin, end); captures in m->saves.
static int search(const Regex* re, Match* m, const char* begin, const char* end) {
  m->re = re;
  m->begin = begin;
  m->end = end;
  for (const char* s = begin; s <= end; ++s) {
    if (re->first_char >= 0) {
      s = s < end ? memchr(s, re->first_char, (size_t)(end - s)) : NULL;
      if (!s) return 0;
    }
    memset(m->saves, 0, sizeof m->saves);
    if (run(m, 0, s)) return 1;
    if (re->code[1].op == kBol) return 0;
  }
  return 0;
}

static long capture_number(const Match* m, int group) {
  long v = 0;
  for (const char* p = m->saves[group * 2]; p && p < m->saves[group * 2 + 1]; ++p) v = v * 10 + (*p - '0');
  return v;
}

static uint64_t fnv(uint64_t h, const char* s, const char* e) {
  for (; s && s < e; ++s) h = (h ^ (uint8_t)*s) * 0x100000001B3ULL;
  return h;
}

// ---------------------------------------------------------------- log

enum { kLines = 1500, kLogCapacity = 1 << 20 };

static char log_text[kLogCapacity];
static size_t log_len;
static uint64_t gen_rng = 7;

static void append(const char* s, int n) {
  if (n > 0 && log_len + (size_t)n < kLogCapacity) {
    memcpy(log_text + log_len, s, (size_t)n);
    log_len += (size_t)n;
  }
}

static void make_log(void) {
  static const char* const methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
  static const char* const paths[] = {"/api/v1/users/", "/api/v2/orders/", "/static/app.",
                                      "/healthz",       "/api/v1/orders/", "/login?next=/account&ref="};
  static const int statuses[] = {200, 200, 200, 201, 204, 301, 304, 400, 401, 404, 500, 503};
  static const char* const levels[] = {"info", "info", "debug", "warn", "error"};
  static const char* const messages[] = {
      "request served",           "cache miss for key session:",       "upstream timeout after 30s",
      "connection reset by peer", "user signed in as ops@example.org", "retrying: connection refused",
      "slow query on orders (",   "payment declined for card ending"};
  char line[512];
  for (int i = 0; i < kLines; ++i) {
    uint64_t r = bench_next(&gen_rng);
    int n;
    if (r % 3 != 0) {
      n = snprintf(line, sizeof line,
                   "%d.%d.%d.%d - - [07/Dec/2026:%02d:%02d:%02d +0000] \"%s %s%d HTTP/1.%d\" %d %d \"-\" "
                   "\"Mozilla/5.0 (X11; Linux x86_64) client/%d.%d\"\n",
                   (int)(r % 223 + 1), (int)((r >> 8) % 256), (int)((r >> 16) % 256), (int)((r >> 24) % 254 + 1),
                   (int)((r >> 5) % 24), (int)((r >> 10) % 60), (int)((r >> 16) % 60), methods[(r >> 22) % 6],
                   paths[(r >> 25) % 6], (int)((r >> 28) % 100000), (int)((r >> 45) & 1), statuses[(r >> 46) % 12],
                   (int)((r >> 32) % 90000), (int)((r >> 50) % 9), (int)((r >> 54) % 20));
    } else {
      n = snprintf(line, sizeof line,
                   "ts=2026-12-07T%02d:%02d:%02d.%03dZ level=%s svc=%s user_id=%d latency_ms=%d msg=\"%s%d\"\n",
                   (int)((r >> 3) % 24), (int)((r >> 8) % 60), (int)((r >> 14) % 60), (int)((r >> 20) % 1000),
                   levels[(r >> 30) % 5], (r >> 33) & 1 ? "checkout" : "catalog", (int)((r >> 34) % 50000),
                   (int)((r >> 40) % 3000), messages[(r >> 50) % 8], (int)((r >> 54) % 1000));
    }
    append(line, n);
  }
}

// ---------------------------------------------------------------- scan

static const char* const kPatterns[] = {
    ("^(\\d+\\.\\d+\\.\\d+\\.\\d+) - - \\[([^\\]]+)\\] \"(GET|POST|PUT|DELETE) ([^ \"]+) HTTP/1\\.[01]\" "
     "(\\d\\d\\d) (\\d+)"),
    "level=(error|warn) .*msg=\"([^\"]*)\"",
    "user_id=(\\d+)",
    "(timeout|refused|reset by peer)",
    "/api/v[12]/(users|orders)/(\\d+)",
    "[a-z0-9._]+@[a-z0-9]+\\.(com|org|net)",
    "latency_ms=([12]\\d\\d\\d)",
    "\\(X11; .*?\\) client/(\\d)",
};
enum { kNumPatterns = sizeof kPatterns / sizeof kPatterns[0] };

int main(int argc, char** argv) {
  long rounds = bench_iterations(argc, argv, 20);
  make_log();
  static Regex res[kNumPatterns];
  for (int i = 0; i < kNumPatterns; ++i) {
    if (!compile(&res[i], kPatterns[i])) {
      printf("logscan: pattern %d: %s\n", i, res[i].error);
      return 1;
    }
  }
  long hits[kNumPatterns] = {0};
  long status_5xx = 0, tokens = 0;
  uint64_t check = 0;
  for (long round = 0; round < rounds; ++round) {
    memset(hits, 0, sizeof hits);
    status_5xx = tokens = 0;
    uint64_t h = (uint64_t)round;
    Match m;
    for (const char* line = log_text; line < log_text + log_len;) {
      const char* eol = memchr(line, '\n', (size_t)(log_text + log_len - line));
      if (!eol) break;
      // key=value and space-separated tokens, as a structured-log reader does.
      for (const char* p = line; p < eol;) {
        while (p < eol && *p == ' ') ++p;
        const char* t = p;
        while (p < eol && *p != ' ') ++p;
        if (p > t) {
          ++tokens;
          const char* eq = memchr(t, '=', (size_t)(p - t));
          if (eq) h = fnv(h, t, eq);
        }
      }
      for (int i = 0; i < kNumPatterns; ++i) {
        if (!search(&res[i], &m, line, eol)) continue;
        ++hits[i];
        if (i == 0) {
          long status = capture_number(&m, 5);
          if (status >= 500) ++status_5xx;
          h = fnv(h, m.saves[8], m.saves[9]) + (uint64_t)status;
        } else {
          h = fnv(h, m.saves[2], m.saves[3]);
        }
      }
      line = eol + 1;
    }
    check = (check ^ h) * 0x100000001B3ULL;
  }
  printf("logscan %ld rounds of %d lines (%zu bytes): hits", rounds, kLines, log_len);
  for (int i = 0; i < kNumPatterns; ++i) printf(" %ld", hits[i]);
  printf(", 5xx %ld, tokens %ld, check %016llx\n", status_5xx, tokens, (unsigned long long)check);
  return 0;
}

// A JSON parser (recursive descent, validating, no allocation) run N times
// over a generated 128 KiB document; it folds every value into a checksum.
#include <string.h>

#include "common.h"

enum { kDocCapacity = 160 * 1024, kDocTarget = 128 * 1024, kMaxDepth = 6 };

static char doc[kDocCapacity];
static size_t doc_len;
static uint64_t gen_rng = 99;

// ---------------------------------------------------------------- generator

static void emit(const char* s) {
  size_t n = strlen(s);
  if (doc_len + n < kDocCapacity) {
    memcpy(doc + doc_len, s, n);
    doc_len += n;
  }
}

static void emit_value(int depth);

static void emit_string(void) {
  static const char* words[] = {"alpha", "beta", "gamma", "delta\\n", "eps\\\"ilon", "zeta", "eta", "th\\u00e9ta"};
  emit("\"");
  emit(words[bench_next(&gen_rng) % 8]);
  emit("\"");
}

static void emit_number(void) {
  char buf[32];
  uint64_t r = bench_next(&gen_rng);
  snprintf(buf, sizeof buf, (r & 1) ? "%lld" : "-%lld.%02d", (long long)(r % 1000000), (int)(r % 97));
  emit(buf);
}

static void emit_value(int depth) {
  uint64_t kind = bench_next(&gen_rng) % (depth >= kMaxDepth ? 4 : 6);
  switch (kind) {
    case 0: emit_string(); break;
    case 1: emit_number(); break;
    case 2: emit((bench_next(&gen_rng) & 1) ? "true" : "false"); break;
    case 3: emit("null"); break;
    case 4: {
      int n = (int)(bench_next(&gen_rng) % 6);
      emit("[");
      for (int i = 0; i < n; ++i) {
        if (i) emit(", ");
        emit_value(depth + 1);
      }
      emit("]");
      break;
    }
    default: {
      int n = (int)(bench_next(&gen_rng) % 6);
      emit("{");
      for (int i = 0; i < n; ++i) {
        if (i) emit(",");
        emit("\n  ");
        emit_string();
        emit(": ");
        emit_value(depth + 1);
      }
      emit("}");
      break;
    }
  }
}

// ---------------------------------------------------------------- parser

typedef struct {
  const char* p;
  const char* end;
  uint64_t sum;
  int error;
} Parser;

static void fold(Parser* ps, uint64_t v) { ps->sum = (ps->sum ^ v) * 0x100000001B3ULL; }

static void skip_ws(Parser* ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')) ++ps->p;
}

static int expect(Parser* ps, char c) {
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == c) {
    ++ps->p;
    return 1;
  }
  ps->error = 1;
  return 0;
}

static void parse_value(Parser* ps, int depth);

static void parse_string(Parser* ps) {
  if (!expect(ps, '"')) return;
  uint64_t h = 0;
  while (ps->p < ps->end && *ps->p != '"') {
    char c = *ps->p++;
    if (c == '\\') {
      if (ps->p >= ps->end) break;
      char e = *ps->p++;
      if (e == 'u') {
        uint32_t cp = 0;
        for (int i = 0; i < 4 && ps->p < ps->end; ++i) {
          char h4 = *ps->p++;
          cp = cp * 16 + (uint32_t)(h4 <= '9' ? h4 - '0' : (h4 | 32) - 'a' + 10);
        }
        c = (char)cp;
      } else {
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
      }
    }
    h = h * 31 + (uint8_t)c;
  }
  if (ps->p >= ps->end) {
    ps->error = 1;
    return;
  }
  ++ps->p;
  fold(ps, h);
}

static void parse_number(Parser* ps) {
  int negative = 0;
  if (*ps->p == '-') {
    negative = 1;
    ++ps->p;
  }
  int64_t whole = 0, frac = 0;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') whole = whole * 10 + (*ps->p++ - '0');
  if (ps->p < ps->end && *ps->p == '.') {
    ++ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') frac = frac * 10 + (*ps->p++ - '0');
  }
  fold(ps, (uint64_t)(negative ? -(whole * 100 + frac) : whole * 100 + frac));
}

static void parse_literal(Parser* ps, const char* word, uint64_t v) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
    ps->error = 1;
    return;
  }
  ps->p += n;
  fold(ps, v);
}

static void parse_value(Parser* ps, int depth) {
  skip_ws(ps);
  if (ps->p >= ps->end || depth > 64) {
    ps->error = 1;
    return;
  }
  switch (*ps->p) {
    case '"': parse_string(ps); return;
    case 't': parse_literal(ps, "true", 1); return;
    case 'f': parse_literal(ps, "false", 2); return;
    case 'n': parse_literal(ps, "null", 3); return;
    case '[': {
      ++ps->p;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == ']') {
        ++ps->p;
        fold(ps, 4);
        return;
      }
      do parse_value(ps, depth + 1);
      while (!ps->error && (skip_ws(ps), ps->p < ps->end && *ps->p == ',') && ++ps->p);
      expect(ps, ']');
      return;
    }
    case '{': {
      ++ps->p;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == '}') {
        ++ps->p;
        fold(ps, 5);
        return;
      }
      do {
        parse_string(ps);
        if (!expect(ps, ':')) return;
        parse_value(ps, depth + 1);
      } while (!ps->error && (skip_ws(ps), ps->p < ps->end && *ps->p == ',') && ++ps->p);
      expect(ps, '}');
      return;
    }
    default:
      if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
        parse_number(ps);
        return;
      }
      ps->error = 1;
  }
}

int main(int argc, char** argv) {
  long rounds = bench_iterations(argc, argv, 300);
  emit("[");
  while (doc_len < kDocTarget) {
    emit_value(0);
    emit(",\n");
  }
  emit("0]");
  uint64_t check = 0;
  for (long r = 0; r < rounds; ++r) {
    Parser ps = {doc, doc + doc_len, (uint64_t)r, 0};
    parse_value(&ps, 0);
    if (ps.error) {
      printf("parse: error at offset %ld\n", (long)(ps.p - doc));
      return 1;
    }
    check ^= ps.sum;
  }
  printf("parse %ld rounds of %zu bytes: %016llx\n", rounds, doc_len, (unsigned long long)check);
  return 0;
}

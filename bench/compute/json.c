// JSON as a component handling an API response does it: a ~256 KiB document
// shaped like a paginated REST answer (orders with customers, addresses, line
// items, ISO timestamps, prices, tags, nulls, escaped and non-ASCII text) is
// parsed N times into a tree of nodes (an arena reset per round), with
// numbers converted to double and strings unescaped to UTF-8; each round then
// queries the tree (lookups by key) and folds the answers into a checksum.
#include <string.h>

#include "common.h"

enum { kDocCapacity = 320 * 1024, kDocTarget = 256 * 1024, kMaxNodes = 64 * 1024, kTextCapacity = 256 * 1024 };

static char doc[kDocCapacity];
static size_t doc_len;
static uint64_t gen_rng = 2026;

// ---------------------------------------------------------------- document

static void emit(const char* s) {
  size_t n = strlen(s);
  if (doc_len + n < kDocCapacity) {
    memcpy(doc + doc_len, s, n);
    doc_len += n;
  }
}

static const char* pick(const char* const* words, size_t n) { return words[bench_next(&gen_rng) % n]; }

static void emitf_int(const char* key, long v, const char* sep) {
  char buf[64];
  snprintf(buf, sizeof buf, "\"%s\": %ld%s", key, v, sep);
  emit(buf);
}

static void emit_order(long id) {
  static const char* const first[] = {"Ana",   "Bj\\u00f6rn", "Chlo\\u00e9", "Dmitri", "Eun-ji",
                                      "Farah", "G\\u00fcl",   "Hiro",        "Ines",   "Jonas"};
  static const char* const last[] = {"Silva",  "Andersson",    "Dubois", "Ivanov",       "Kim",
                                     "Haddad", "Y\\u0131lmaz", "Tanaka", "Garc\\u00eda", "M\\u00fcller"};
  static const char* const cities[] = {"Lisboa", "G\\u00f6teborg", "Lyon",  "Kazan",   "Busan",
                                       "Beirut", "\\u0130zmir",    "Osaka", "Sevilla", "K\\u00f6ln"};
  static const char* const statuses[] = {"pending", "paid", "shipped", "delivered", "cancelled", "refunded"};
  static const char* const skus[] = {"KB-104", "MS-220", "HD-4TB", "USB-C-2M", "MON-27Q", "CAM-HD", "SSD-1TB"};
  static const char* const tags[] = {"gift", "express", "b2b", "fragile", "promo", "repeat", "priority"};
  char buf[256];
  uint64_t r = bench_next(&gen_rng);
  emit("    {\n      ");
  emitf_int("id", id, ",\n      ");
  snprintf(buf, sizeof buf, "\"number\": \"ORD-%06ld-%c%c\",\n      ", id * 7 + 13, (char)('A' + r % 26),
           (char)('A' + (r >> 8) % 26));
  emit(buf);
  snprintf(buf, sizeof buf, "\"created_at\": \"2026-%02d-%02dT%02d:%02d:%02d.%03dZ\",\n      ", (int)(r % 12 + 1),
           (int)((r >> 4) % 28 + 1), (int)((r >> 9) % 24), (int)((r >> 14) % 60), (int)((r >> 20) % 60),
           (int)((r >> 26) % 1000));
  emit(buf);
  emit("\"status\": \"");
  emit(pick(statuses, 6));
  emit("\",\n      \"customer\": {\n        ");
  emitf_int("id", (long)(bench_next(&gen_rng) % 90000 + 10000), ",\n        ");
  const char* f = pick(first, 10);
  const char* l = pick(last, 10);
  snprintf(buf, sizeof buf, "\"name\": \"%s %s\",\n        \"email\": \"%s.%ld@example.com\",\n        ", f, l,
           (r & 1) ? "customer" : "buyer", (long)(r % 9973));
  emit(buf);
  emit("\"address\": {\"street\": \"");
  snprintf(buf, sizeof buf, "%d Rua \\\"Nova\\\" %d", (int)(r % 400 + 1), (int)((r >> 3) % 50));
  emit(buf);
  emit("\", \"city\": \"");
  emit(pick(cities, 10));
  snprintf(buf, sizeof buf, "\", \"postcode\": \"%05d\", \"geo\": [%d.%06d, -%d.%06d]},\n        ", (int)(r % 99999),
           (int)(r % 80), (int)((r >> 5) % 1000000), (int)((r >> 11) % 170), (int)((r >> 17) % 1000000));
  emit(buf);
  emit((r >> 30) & 1 ? "\"vip\": true,\n        \"note\": null\n      },\n      "
                     : "\"vip\": false,\n        \"note\": \"leave at the door\\nring twice\"\n      },\n      ");
  emit("\"items\": [");
  int items = (int)(bench_next(&gen_rng) % 5 + 1);
  for (int i = 0; i < items; ++i) {
    uint64_t q = bench_next(&gen_rng);
    snprintf(buf, sizeof buf,
             "%s\n        {\"sku\": \"%s\", \"qty\": %d, \"unit_price\": %d.%02d, \"discount\": %s, "
             "\"weight_kg\": %d.%de-1}",
             i ? "," : "", pick(skus, 7), (int)(q % 4 + 1), (int)(q % 900 + 5), (int)((q >> 12) % 100),
             (q >> 20) & 1 ? "0.1" : "null", (int)((q >> 24) % 90 + 1), (int)((q >> 30) % 10));
    emit(buf);
  }
  emit("\n      ],\n      \"tags\": [");
  int ntags = (int)(bench_next(&gen_rng) % 4);
  for (int i = 0; i < ntags; ++i) {
    emit(i ? ", \"" : "\"");
    emit(pick(tags, 7));
    emit("\"");
  }
  emit("],\n      ");
  snprintf(buf, sizeof buf, "\"total\": %d.%02d,\n      \"currency\": \"%s\"\n    }", (int)(r % 5000 + 10),
           (int)((r >> 7) % 100), (r >> 40) & 1 ? "EUR" : "USD");
  emit(buf);
}

static void make_document(void) {
  emit("{\n  \"object\": \"list\",\n  \"url\": \"/v1/orders?page=3&per_page=500\",\n  \"has_more\": true,\n");
  emit("  \"data\": [\n");
  long id = 1000;
  while (doc_len < kDocTarget) {
    if (id > 1000) emit(",\n");
    emit_order(id++);
  }
  emit("\n  ],\n  \"meta\": {\"request_id\": \"req_8f3a\\/b2\", \"took_ms\": 12.5, \"warnings\": []}\n}\n");
}

// ---------------------------------------------------------------- tree

typedef enum { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject } Kind;

// Children of arrays and objects are linked through `next`; an object's
// member nodes carry their key.
typedef struct Node {
  Kind kind;
  const char* key;  // object members only, unescaped, in the text arena
  size_t key_len;
  const char* str;  // strings, unescaped
  size_t str_len;
  double num;
  struct Node* first;
  struct Node* next;
} Node;

typedef struct {
  const char* p;
  const char* end;
  Node* nodes;
  size_t used;
  char* text;
  size_t text_used;
  const char* error;
} Parser;

static Node* new_node(Parser* ps, Kind kind) {
  if (ps->used == kMaxNodes) {
    ps->error = "too many nodes";
    return NULL;
  }
  Node* n = &ps->nodes[ps->used++];
  memset(n, 0, sizeof *n);
  n->kind = kind;
  return n;
}

static void skip_ws(Parser* ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')) ++ps->p;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 32) >= 'a' && (c | 32) <= 'f') return (c | 32) - 'a' + 10;
  return -1;
}

// Unescapes a string token into the text arena (\uXXXX to UTF-8).
static const char* parse_string(Parser* ps, size_t* len) {
  if (ps->p >= ps->end || *ps->p != '"') {
    ps->error = "expected a string";
    return NULL;
  }
  ++ps->p;
  char* out = ps->text + ps->text_used;
  char* limit = ps->text + kTextCapacity - 4;
  char* o = out;
  while (ps->p < ps->end && *ps->p != '"') {
    if (o >= limit) {
      ps->error = "text arena full";
      return NULL;
    }
    char c = *ps->p++;
    if (c != '\\') {
      *o++ = c;
      continue;
    }
    if (ps->p >= ps->end) break;
    char e = *ps->p++;
    switch (e) {
      case 'n': *o++ = '\n'; break;
      case 't': *o++ = '\t'; break;
      case 'r': *o++ = '\r'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'u': {
        unsigned cp = 0;
        for (int i = 0; i < 4; ++i) {
          int d = ps->p < ps->end ? hex_digit(*ps->p++) : -1;
          if (d < 0) {
            ps->error = "bad \\u escape";
            return NULL;
          }
          cp = cp * 16 + (unsigned)d;
        }
        if (cp < 0x80) {
          *o++ = (char)cp;
        } else if (cp < 0x800) {
          *o++ = (char)(0xc0 | (cp >> 6));
          *o++ = (char)(0x80 | (cp & 0x3f));
        } else {
          *o++ = (char)(0xe0 | (cp >> 12));
          *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
          *o++ = (char)(0x80 | (cp & 0x3f));
        }
        break;
      }
      default: *o++ = e; break;  // " \ /
    }
  }
  if (ps->p >= ps->end) {
    ps->error = "unterminated string";
    return NULL;
  }
  ++ps->p;
  *len = (size_t)(o - out);
  ps->text_used += *len;
  return out;
}

static const double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Decimal digits, fraction and exponent to double (exact for the short
// numbers of such documents: mantissa < 2^53, power of ten <= 22).
static double parse_number(Parser* ps) {
  int negative = 0;
  if (*ps->p == '-') {
    negative = 1;
    ++ps->p;
  }
  uint64_t mantissa = 0;
  int exponent = 0, digits = 0;
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
    mantissa = mantissa * 10 + (uint64_t)(*ps->p++ - '0');
    ++digits;
  }
  if (ps->p < ps->end && *ps->p == '.') {
    ++ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
      mantissa = mantissa * 10 + (uint64_t)(*ps->p++ - '0');
      --exponent;
      ++digits;
    }
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ++ps->p;
    int sign = 1, e = 0;
    if (ps->p < ps->end && (*ps->p == '-' || *ps->p == '+')) sign = *ps->p++ == '-' ? -1 : 1;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') e = e * 10 + (*ps->p++ - '0');
    exponent += sign * e;
  }
  if (digits == 0 || digits > 17 || exponent < -22 || exponent > 22) {
    ps->error = "number out of the supported range";
    return 0;
  }
  double v = (double)mantissa;
  v = exponent < 0 ? v / kPow10[-exponent] : v * kPow10[exponent];
  return negative ? -v : v;
}

static int literal(Parser* ps, const char* word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
    ps->error = "bad literal";
    return 0;
  }
  ps->p += n;
  return 1;
}

static Node* parse_value(Parser* ps, int depth) {
  skip_ws(ps);
  if (ps->p >= ps->end || depth > 64) {
    ps->error = "unexpected end or too deep";
    return NULL;
  }
  char c = *ps->p;
  if (c == '"') {
    Node* n = new_node(ps, kString);
    if (n) n->str = parse_string(ps, &n->str_len);
    return ps->error ? NULL : n;
  }
  if (c == '[' || c == '{') {
    Node* n = new_node(ps, c == '[' ? kArray : kObject);
    if (!n) return NULL;
    ++ps->p;
    skip_ws(ps);
    char close = c == '[' ? ']' : '}';
    if (ps->p < ps->end && *ps->p == close) {
      ++ps->p;
      return n;
    }
    Node** tail = &n->first;
    for (;;) {
      const char* key = NULL;
      size_t key_len = 0;
      if (c == '{') {
        skip_ws(ps);
        key = parse_string(ps, &key_len);
        skip_ws(ps);
        if (ps->error || ps->p >= ps->end || *ps->p != ':') {
          if (!ps->error) ps->error = "expected ':'";
          return NULL;
        }
        ++ps->p;
      }
      Node* child = parse_value(ps, depth + 1);
      if (!child) return NULL;
      child->key = key;
      child->key_len = key_len;
      *tail = child;
      tail = &child->next;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ++ps->p;
        continue;
      }
      if (ps->p < ps->end && *ps->p == close) {
        ++ps->p;
        return n;
      }
      ps->error = "expected ',' or a closing bracket";
      return NULL;
    }
  }
  if (c == 't') return literal(ps, "true") ? new_node(ps, kTrue) : NULL;
  if (c == 'f') return literal(ps, "false") ? new_node(ps, kFalse) : NULL;
  if (c == 'n') return literal(ps, "null") ? new_node(ps, kNull) : NULL;
  if (c == '-' || (c >= '0' && c <= '9')) {
    double v = parse_number(ps);
    Node* n = ps->error ? NULL : new_node(ps, kNumber);
    if (n) n->num = v;
    return n;
  }
  ps->error = "unexpected character";
  return NULL;
}

// ---------------------------------------------------------------- queries

static const Node* get(const Node* object, const char* key) {
  size_t n = strlen(key);
  if (!object || object->kind != kObject) return NULL;
  for (const Node* m = object->first; m; m = m->next)
    if (m->key_len == n && memcmp(m->key, key, n) == 0) return m;
  return NULL;
}

static double number(const Node* n) { return n && n->kind == kNumber ? n->num : 0; }

static int is_string(const Node* n, const char* s) {
  return n && n->kind == kString && n->str_len == strlen(s) && memcmp(n->str, s, n->str_len) == 0;
}

static uint64_t fnv(uint64_t h, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ (uint8_t)s[i]) * 0x100000001B3ULL;
  return h;
}

typedef struct {
  long orders, shipped, vip, items, tagged_gift, non_ascii_names;
  double revenue, weight;  // shipped or delivered, in cents and grams (rounded per round)
  uint64_t names;
} Summary;

static void summarize(const Node* root, Summary* s) {
  const Node* data = get(root, "data");
  for (const Node* order = data ? data->first : NULL; order; order = order->next) {
    ++s->orders;
    const Node* status = get(order, "status");
    int counted = is_string(status, "shipped") || is_string(status, "delivered");
    if (is_string(status, "shipped")) ++s->shipped;
    const Node* customer = get(order, "customer");
    const Node* vip = get(customer, "vip");
    if (vip && vip->kind == kTrue) ++s->vip;
    const Node* name = get(customer, "name");
    if (name && name->kind == kString) {
      s->names = fnv(s->names, name->str, name->str_len);
      for (size_t i = 0; i < name->str_len; ++i)
        if ((uint8_t)name->str[i] >= 0x80) {
          ++s->non_ascii_names;
          break;
        }
    }
    const Node* items = get(order, "items");
    for (const Node* item = items ? items->first : NULL; item; item = item->next) {
      ++s->items;
      double price = number(get(item, "unit_price")) * number(get(item, "qty"));
      const Node* discount = get(item, "discount");
      if (discount && discount->kind == kNumber) price *= 1 - discount->num;
      if (counted) s->revenue += price;
      s->weight += number(get(item, "weight_kg")) * number(get(item, "qty"));
    }
    const Node* tags = get(order, "tags");
    for (const Node* t = tags ? tags->first : NULL; t; t = t->next)
      if (is_string(t, "gift")) ++s->tagged_gift;
  }
}

int main(int argc, char** argv) {
  long rounds = bench_iterations(argc, argv, 200);
  make_document();
  Node* nodes = malloc(sizeof(Node) * kMaxNodes);
  char* text = malloc(kTextCapacity);
  if (!nodes || !text) {
    printf("json: out of memory\n");
    return 1;
  }
  Summary total = {0};
  uint64_t check = 0;
  for (long r = 0; r < rounds; ++r) {
    Parser ps = {doc, doc + doc_len, nodes, 0, text, 0, NULL};
    Node* root = parse_value(&ps, 0);
    if (!root) {
      printf("json: %s at offset %ld\n", ps.error, (long)(ps.p - doc));
      return 1;
    }
    Summary s = {0};
    summarize(root, &s);
    // Rounded per round, so the checksum does not depend on the order in
    // which a compiler sums doubles across rounds.
    check = (check ^ ((uint64_t)(s.revenue * 100 + 0.5) + (uint64_t)(s.weight * 1000 + 0.5) + ps.used + r)) *
            0x100000001B3ULL;
    total = s;
  }
  printf(
      "json %ld rounds of %zu bytes: %ld orders, %ld shipped, %ld vip, %ld items, %ld gift, %ld non-ascii, "
      "names %016llx, revenue %.2f, check %016llx\n",
      rounds, doc_len, total.orders, total.shipped, total.vip, total.items, total.tagged_gift, total.non_ascii_names,
      (unsigned long long)total.names, total.revenue, (unsigned long long)check);
  free(nodes);
  free(text);
  return 0;
}

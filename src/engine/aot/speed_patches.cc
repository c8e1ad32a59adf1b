#include "engine/aot/speed_patches.h"

#include <cctype>
#include <set>
#include <vector>

namespace stratus::engine::aot {
namespace {

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// `c` with every occurrence of `from` replaced by `to`, in one pass (a module
// with tens of thousands of functions gives tens of megabytes of C).
std::string replaced(const std::string& c, const std::string& from, const std::string& to) {
  std::string out;
  out.reserve(c.size());
  size_t done = 0;
  for (size_t pos = c.find(from); pos != std::string::npos; pos = c.find(from, done)) {
    out.append(c, done, pos - done).append(to);
    done = pos + from.size();
  }
  out.append(c, done, std::string::npos);
  return out;
}

// The helpers wasm2c instantiates with `DEFINE_LOAD(name, ...)`,
// `DEFINE_LOAD_FP(name, ...)` (see patch_source in codegen.cc) and
// `DEFINE_STORE(name, ...)` at the start of a line, with their macro
// arguments: {macro, name, "name, t1, t2[, t3]"}.
struct Helper {
  std::string macro, name, args;
};

std::vector<Helper> find_helpers(const std::string& c) {
  std::vector<Helper> out;
  for (const char* macro : {"DEFINE_LOAD", "DEFINE_LOAD_FP", "DEFINE_STORE"}) {
    const std::string head = std::string("\n") + macro + "(";
    for (size_t at = c.find(head); at != std::string::npos; at = c.find(head, at + 1)) {
      size_t open = at + head.size();
      size_t close = c.find(")\n", open);
      if (close == std::string::npos) break;
      std::string args = c.substr(open, close - open);
      size_t comma = args.find(',');
      if (comma == std::string::npos || args.find('\n') != std::string::npos) continue;
      out.push_back({macro, args.substr(0, comma), args});
    }
  }
  return out;
}

// Variants of the helpers that take the base address. Bounds are checked by
// the guard pages (wasm-rt.h sets WASM_RT_MEMCHECK_SIGNAL_HANDLER, so wasm2c's
// own MEMCHECK is empty too). Loads keep wasm2c's empty asm that uses the
// value, so a load whose result is unused still happens and can still trap.
constexpr const char* kBaseHelpers = R"(
#if WABT_BIG_ENDIAN
#error "stratus: the aot backend supports little-endian hosts only"
#endif
#define STRATUS_LOAD_B(name, t1, t2, t3, constraint)        \
  static inline t3 name##_b(u8* base, u64 addr) {           \
    t1 result;                                              \
    wasm_rt_memcpy(&result, &base[addr], sizeof(t1));       \
    wasm_asm("" ::constraint(result));                      \
    return (t3)(t2)result;                                  \
  }
#define STRATUS_STORE_B(name, t1, t2)                              \
  static inline void name##_b(u8* base, u64 addr, t2 value) {      \
    t1 wrapped = (t1)value;                                        \
    wasm_rt_memcpy(&base[addr], &wrapped, sizeof(t1));             \
  }
)";

}  // namespace

// wasm2c passes every load and store the memory (`&instance->w2c_m` for a
// defined one, `instance->w2c_m` for an imported one) and the helper reads
// `mem->data` each time. `data` is a u8*, so to the C compiler any store
// through it may have changed the field itself: it reloads the base after
// every store (nbody's inner loop reloaded it six times per iteration).
// stratus's memories never move (guard-page reservations grown in place,
// runtime/memory.cc), so each function reads every base it uses once, into a
// local no store can reach.
void cache_memory_bases(std::string& c) {
  std::vector<Helper> helpers = find_helpers(c);
  const std::string prologue = "  FUNC_PROLOGUE;\n";
  size_t last = c.rfind("\nDEFINE_STORE(");
  const size_t body_start = c.find(prologue);
  if (helpers.empty() || last == std::string::npos || body_start == std::string::npos || last > body_start) return;
  std::set<std::string> names;
  std::string defs = kBaseHelpers;
  for (const auto& h : helpers) {
    names.insert(h.name);
    if (h.macro == "DEFINE_STORE")
      defs += "STRATUS_STORE_B(" + h.args + ")\n";
    else
      defs += "STRATUS_LOAD_B(" + h.args + (h.macro == "DEFINE_LOAD_FP" ? ", \"rx\")\n" : ", \"r\")\n");
  }
  // One pass over the text: each call `name(<memory>, ` of a helper becomes
  // `name_b(stratus_mbK, `; any other first argument is left alone.
  std::vector<std::string> memories;
  std::string out;
  out.reserve(c.size() + c.size() / 8);
  size_t done = 0;
  for (size_t i = body_start; i < c.size();) {
    if (!is_ident_char(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && is_ident_char(c[j])) ++j;
    if (j < c.size() && c[j] == '(' && names.count(c.substr(i, j - i)) != 0) {
      size_t arg = j + 1;
      size_t arrow = arg + (c.compare(arg, 1, "&") == 0 ? 1 : 0);
      if (c.compare(arrow, 10, "instance->") == 0) {
        size_t end = arrow + 10;
        while (end < c.size() && is_ident_char(c[end])) ++end;
        if (c.compare(end, 2, ", ") == 0) {
          std::string memory = c.substr(arg, end - arg);
          size_t k = 0;
          while (k < memories.size() && memories[k] != memory) ++k;
          if (k == memories.size()) memories.push_back(memory);
          out.append(c, done, j - done).append("_b(stratus_mb" + std::to_string(k) + ", ");
          done = end + 2;
          i = done;
          continue;
        }
      }
    }
    i = j;
  }
  if (memories.empty()) return;
  out.append(c, done, std::string::npos);
  std::string decls = prologue;
  for (size_t k = 0; k < memories.size(); ++k)
    decls += "  u8* const stratus_mb" + std::to_string(k) + " = (" + memories[k] + ")->data;\n";
  out = replaced(out, prologue, decls);
  size_t eol = out.find('\n', last + 1);
  out.insert(eol + 1, defs);
  c = std::move(out);
}

void inline_sqrt(std::string& c) {
  c = replaced(c, " = wasm_sqrt(", " = stratus_sqrt(");
  c = replaced(c, " = wasm_sqrtf(", " = stratus_sqrtf(");
}

}  // namespace stratus::engine::aot

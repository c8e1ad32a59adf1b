#include "engine/eh_lower.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <string>

namespace stratus::engine {
namespace {

// A function nested deeper than this is hostile, not compiled code; the cap
// bounds the walker's memory.
constexpr size_t kMaxOpenBlocks = 100'000;

constexpr uint8_t kBlock = 0x02, kLoop = 0x03, kIf = 0x04, kElse = 0x05, kTry = 0x06, kCatch = 0x07, kThrowRef = 0x0A,
                  kEnd = 0x0B, kBr = 0x0C, kDelegate = 0x18, kCatchAll = 0x19, kTryTable = 0x1F;
// The exnref proposal's types: exnref (exn as a heap type) and nullexnref (noexn).
constexpr uint8_t kExnRef = 0x69, kNullExnRef = 0x74;
constexpr uint8_t kRefNull = 0x63, kRef = 0x64;  // typed references: (ref null ht), (ref ht)

Error error_at(size_t offset, const std::string& what) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "offset 0x%zx: ", offset);
  return make_error(prefix + what);
}

std::string hex(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x", value);
  return buf;
}

Error exnref_error(size_t offset, const char* construct) {
  return error_at(offset, std::string(construct) + " needs exnref, which this engine does not support");
}

void write_u32(std::vector<uint8_t>& out, uint32_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(value != 0 ? byte | 0x80 : byte);
  } while (value != 0);
}

// Reads module[pos, end): one section or function body, named `region` in the
// error for a read past its end. Offsets are the module's, so every error
// points into the bytes the user has.
class Reader {
 public:
  Reader(std::span<const uint8_t> module, size_t pos, size_t end, const char* region)
      : module_(module), pos_(pos), end_(end), region_(region) {}

  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= end_; }

  Result<void> peek(uint8_t& out) const {
    if (at_end()) return truncated();
    out = module_[pos_];
    return {};
  }
  Result<void> u8(uint8_t& out) {
    STRATUS_TRY(peek(out));
    ++pos_;
    return {};
  }
  Result<void> skip(size_t n) {
    if (n > end_ - pos_) return truncated();
    pos_ += n;
    return {};
  }
  Result<void> u32(uint32_t& out) {
    size_t start = pos_;
    uint64_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      uint8_t b = 0;
      STRATUS_TRY(u8(b));
      value |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        if (value > UINT32_MAX) return error_at(start, "integer too large for u32");
        out = static_cast<uint32_t>(value);
        return {};
      }
    }
    return error_at(start, "malformed LEB128 integer");
  }
  // Steps over a LEB128 immediate that is copied as is (constants, offsets,
  // type indices); wabt checks its value.
  Result<void> skip_leb(int max_bytes) {
    size_t start = pos_;
    for (int i = 0; i < max_bytes; ++i) {
      uint8_t b = 0;
      STRATUS_TRY(u8(b));
      if ((b & 0x80) == 0) return {};
    }
    return error_at(start, "malformed LEB128 integer");
  }

 private:
  Error truncated() const { return error_at(pos_, std::string("unexpected end of ") + region_); }

  std::span<const uint8_t> module_;
  size_t pos_;
  size_t end_;
  const char* region_;
};

// A heap type is an abstract type (one byte, negative as s33) or a type index.
Result<void> heap_type(Reader& r) {
  size_t at = r.pos();
  uint8_t b = 0;
  STRATUS_TRY(r.peek(b));
  if (b == kExnRef || b == kNullExnRef) return exnref_error(at, b == kExnRef ? "heap type exn" : "heap type noexn");
  return r.skip_leb(5);
}

Result<void> value_type(Reader& r) {
  size_t at = r.pos();
  uint8_t t = 0;
  STRATUS_TRY(r.u8(t));
  if (t == kExnRef || t == kNullExnRef) return exnref_error(at, t == kExnRef ? "type exnref" : "type nullexnref");
  if (t == kRefNull || t == kRef) return heap_type(r);
  return {};
}

Result<void> value_types(Reader& r) {
  uint32_t count = 0;
  STRATUS_TRY(r.u32(count));
  for (uint32_t i = 0; i < count; ++i) STRATUS_TRY(value_type(r));
  return {};
}

// Function types are the only type form wabt 1.0.32 reads; a module with GC
// types (rec, sub, struct, array) is one this rewrite does not understand.
Result<void> check_type_section(std::span<const uint8_t> module, size_t begin, size_t end) {
  Reader r(module, begin, end, "type section");
  uint32_t count = 0;
  STRATUS_TRY(r.u32(count));
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = r.pos();
    uint8_t form = 0;
    STRATUS_TRY(r.u8(form));
    if (form != 0x60) return error_at(at, "type form " + hex(form) + " is not a function type");
    STRATUS_TRY(value_types(r));
    STRATUS_TRY(value_types(r));
  }
  return {};
}

// Opcodes without immediates outside the numeric range 0x45..0xc4:
// unreachable, nop, return, drop, select, ref.is_null, ref.as_non_null.
constexpr uint8_t kNoImmediate[] = {0x00, 0x01, 0x0f, 0x1a, 0x1b, 0xd1, 0xd3};
// Opcodes with one index (label, function, local, global, table, memory or
// tag): throw, rethrow, br, br_if, call, return_call, call_ref,
// return_call_ref, local.get/set/tee, global.get/set, table.get/set,
// memory.size/grow, ref.func, br_on_null, br_on_non_null.
constexpr uint8_t kOneIndex[] = {0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x14, 0x15, 0x20, 0x21,
                                 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0xd2, 0xd4, 0xd6};
// SIMD sub-opcodes in 0..275 (Wasm 2.0 and relaxed SIMD) that no instruction uses.
constexpr uint16_t kSimdUnassigned[] = {154, 162, 165, 166, 175, 176, 178, 179, 180, 187,
                                        194, 197, 198, 207, 208, 210, 211, 212, 226, 238};

template <class T, size_t N>
bool contains(const T (&set)[N], uint32_t value) {
  return std::find(std::begin(set), std::end(set), value) != std::end(set);
}

// Walks one function's expression, instruction by instruction, and writes
// it with every try_table replaced. Bytes are copied lazily: `copied_` marks
// how far the input has been written to `out_`, so a function without
// try_table costs no copy at all.
class ExpressionLowerer {
 public:
  ExpressionLowerer(std::span<const uint8_t> module, Reader& r, std::vector<uint8_t>& out)
      : module_(module), r_(r), out_(out), copied_(r.pos()) {}

  // Walks to the function's final `end`, which must be the body's last byte.
  Result<void> run(size_t body_end) {
    while (!done_) STRATUS_TRY(instruction());
    if (r_.pos() != body_end) return error_at(r_.pos(), "function body continues after its final end");
    if (changed_) flush(body_end);
    return {};
  }
  bool changed() const { return changed_; }

 private:
  // One handler of a try_table, kept until its `end` emits the legacy form.
  struct Clause {
    bool catch_all;
    uint32_t tag;
    uint32_t label;  // relative to the context outside the try_table
  };
  struct Frame {
    uint8_t opcode;
    size_t first_clause;  // index into clauses_ (try_table only)
  };

  void flush(size_t upto) {
    out_.insert(out_.end(), module_.begin() + static_cast<std::ptrdiff_t>(copied_),
                module_.begin() + static_cast<std::ptrdiff_t>(upto));
    copied_ = upto;
  }

  Result<void> open(size_t at, uint8_t opcode, size_t first_clause) {
    if (stack_.size() >= kMaxOpenBlocks)
      return error_at(at, "more than " + std::to_string(kMaxOpenBlocks) + " nested blocks");
    stack_.push_back({opcode, first_clause});
    return {};
  }

  // `else`, `catch`, `catch_all` and `delegate` belong to the innermost open
  // block. Checking which one keeps an invalid module from turning into a
  // different, valid one (a `catch` in a try_table's body would otherwise
  // become a handler of the legacy try).
  Result<void> expect_innermost(size_t at, uint8_t opcode, const char* name) const {
    if (stack_.empty() || stack_.back().opcode != opcode)
      return error_at(at, std::string(name) + " outside " + (opcode == kIf ? "if" : "try"));
    return {};
  }

  Result<void> block_type() {
    uint8_t b = 0;
    STRATUS_TRY(r_.peek(b));
    // 0x40 (empty) and value types are one byte, negative as s33; anything
    // else is a type index.
    if ((b & 0xc0) == 0x40) return value_type(r_);
    return r_.skip_leb(5);
  }

  Result<void> memarg() {
    uint32_t align = 0;
    STRATUS_TRY(r_.u32(align));
    if (align & 0x40) STRATUS_TRY(r_.skip_leb(5));  // multi-memory: a memory index follows
    return r_.skip_leb(10);                         // offset: u64 under memory64
  }

  Result<void> u32s(int n) {
    uint32_t ignored = 0;
    for (int i = 0; i < n; ++i) STRATUS_TRY(r_.u32(ignored));
    return {};
  }

  // `try_table bt clause* instr* end` becomes `try bt instr* handler* end`:
  // here the header, at the `end` the handlers (see end()).
  Result<void> try_table(size_t at) {
    size_t type_begin = r_.pos();
    STRATUS_TRY(block_type());
    size_t type_end = r_.pos();
    size_t first_clause = clauses_.size();
    uint32_t count = 0;
    STRATUS_TRY(r_.u32(count));
    bool reachable = true;  // false after a catch_all, which catches everything
    for (uint32_t i = 0; i < count; ++i) {
      size_t clause_at = r_.pos();
      uint8_t kind = 0;
      STRATUS_TRY(r_.u8(kind));
      Clause clause{kind == 0x02, 0, 0};
      switch (kind) {
        case 0x00: STRATUS_TRY(r_.u32(clause.tag)); break;
        case 0x01: return exnref_error(clause_at, "catch_ref");
        case 0x02: break;
        case 0x03: return exnref_error(clause_at, "catch_all_ref");
        default: return error_at(clause_at, "unknown try_table clause kind " + hex(kind));
      }
      size_t label_at = r_.pos();
      STRATUS_TRY(r_.u32(clause.label));
      // Outside the try_table, the open blocks and the function are labels.
      if (clause.label > stack_.size())
        return error_at(label_at, "catch clause label " + std::to_string(clause.label) + " is out of range");
      if (reachable) clauses_.push_back(clause);
      if (clause.catch_all) reachable = false;
    }
    flush(at);
    out_.push_back(kTry);
    out_.insert(out_.end(), module_.begin() + static_cast<std::ptrdiff_t>(type_begin),
                module_.begin() + static_cast<std::ptrdiff_t>(type_end));
    copied_ = r_.pos();
    changed_ = true;
    return open(at, kTryTable, first_clause);
  }

  Result<void> end(size_t at) {
    if (stack_.empty()) {
      done_ = true;
      return {};
    }
    Frame frame = stack_.back();
    stack_.pop_back();
    if (frame.opcode != kTryTable) return {};
    // A legacy handler runs inside the try, whose own label is then in
    // scope: the try_table's label l becomes l+1. The handler leaves the
    // tag's values on the stack, as try_table passes them to its label.
    flush(at);
    for (size_t i = frame.first_clause; i < clauses_.size(); ++i) {
      const Clause& c = clauses_[i];
      if (c.catch_all) {
        out_.push_back(kCatchAll);
      } else {
        out_.push_back(kCatch);
        write_u32(out_, c.tag);
      }
      out_.push_back(kBr);
      write_u32(out_, c.label + 1);
    }
    clauses_.resize(frame.first_clause);
    return {};
  }

  Result<void> instruction() {
    size_t at = r_.pos();
    uint8_t op = 0;
    STRATUS_TRY(r_.u8(op));
    if (op >= 0x45 && op <= 0xc4) return {};  // numeric operators, sign extension: no immediates
    if (op >= 0x28 && op <= 0x3e) return memarg();
    if (contains(kNoImmediate, op)) return {};
    if (contains(kOneIndex, op)) return u32s(1);
    switch (op) {
      case kBlock:
      case kLoop:
      case kIf:
      case kTry: STRATUS_TRY(block_type()); return open(at, op, clauses_.size());
      case kTryTable: return try_table(at);
      case kEnd: return end(at);
      case kElse: return expect_innermost(at, kIf, "else");
      case kCatch: STRATUS_TRY(expect_innermost(at, kTry, "catch")); return u32s(1);
      case kCatchAll: return expect_innermost(at, kTry, "catch_all");
      case kDelegate:
        STRATUS_TRY(expect_innermost(at, kTry, "delegate"));
        stack_.pop_back();  // delegate closes its try, as `end` would
        return u32s(1);
      case kThrowRef: return exnref_error(at, "throw_ref");
      case 0x11:
      case 0x13: return u32s(2);  // call_indirect, return_call_indirect: type, table
      case 0x0e: {                // br_table: a vector of labels and the default
        uint32_t count = 0;
        STRATUS_TRY(r_.u32(count));
        for (uint32_t i = 0; i <= count; ++i) STRATUS_TRY(u32s(1));
        return {};
      }
      case 0x1c: return value_types(r_);  // select t*
      case 0x41: return r_.skip_leb(5);   // i32.const
      case 0x42: return r_.skip_leb(10);  // i64.const
      case 0x43: return r_.skip(4);       // f32.const
      case 0x44: return r_.skip(8);       // f64.const
      case 0xd0: return heap_type(r_);    // ref.null
      case 0xfc: return prefixed_fc(at);
      case 0xfd: return prefixed_simd(at);
      case 0xfe: return prefixed_atomic(at);
      default: return error_at(at, "unknown opcode " + hex(op));
    }
  }

  // Saturating truncations and bulk memory / table operations.
  Result<void> prefixed_fc(size_t at) {
    uint32_t sub = 0;
    STRATUS_TRY(r_.u32(sub));
    if (sub <= 7) return {};  // trunc_sat
    // memory.init, memory.copy, table.init, table.copy: two indices; data.drop,
    // memory.fill, elem.drop, table.grow/size/fill: one.
    if (sub == 8 || sub == 10 || sub == 12 || sub == 14) return u32s(2);
    if (sub <= 17) return u32s(1);
    return error_at(at, "unknown opcode 0xfc " + std::to_string(sub));
  }

  Result<void> prefixed_simd(size_t at) {
    uint32_t sub = 0;
    STRATUS_TRY(r_.u32(sub));
    if (sub <= 11 || sub == 92 || sub == 93) return memarg();  // loads, splat loads, store, load_zero
    if (sub == 12 || sub == 13) return r_.skip(16);            // v128.const, i8x16.shuffle
    if (sub >= 21 && sub <= 34) return r_.skip(1);             // extract/replace_lane: lane index
    if (sub >= 84 && sub <= 91) {                              // load/store_lane: memarg, lane index
      STRATUS_TRY(memarg());
      return r_.skip(1);
    }
    if (sub <= 275 && !contains(kSimdUnassigned, sub)) return {};
    return error_at(at, "unknown opcode 0xfd " + std::to_string(sub));
  }

  // Threads: atomic.fence has a reserved zero byte, every other op a memarg.
  Result<void> prefixed_atomic(size_t at) {
    uint32_t sub = 0;
    STRATUS_TRY(r_.u32(sub));
    if (sub == 3) return r_.skip(1);
    if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) return memarg();
    return error_at(at, "unknown opcode 0xfe " + std::to_string(sub));
  }

  std::span<const uint8_t> module_;
  Reader& r_;
  std::vector<uint8_t>& out_;
  size_t copied_;
  bool changed_ = false;
  bool done_ = false;
  std::vector<Frame> stack_;  // open blocks; the function's own label is implicit
  std::vector<Clause> clauses_;
};

// Rewrites the code section's contents module[begin, end) into `out`;
// returns whether any function changed.
Result<bool> lower_code_section(std::span<const uint8_t> module, size_t begin, size_t end, std::vector<uint8_t>& out) {
  Reader r(module, begin, end, "code section");
  uint32_t count = 0;
  STRATUS_TRY(r.u32(count));
  out.insert(out.end(), module.begin() + static_cast<std::ptrdiff_t>(begin),
             module.begin() + static_cast<std::ptrdiff_t>(r.pos()));
  bool changed = false;
  std::vector<uint8_t> expr;
  for (uint32_t i = 0; i < count; ++i) {
    size_t body_at = r.pos();
    uint32_t size = 0;
    STRATUS_TRY(r.u32(size));
    size_t body_begin = r.pos();
    if (size > end - body_begin)
      return error_at(body_at, "function body " + std::to_string(i) + " runs past the end of the code section");
    size_t body_end = body_begin + size;
    Reader body(module, body_begin, body_end, "function body");
    uint32_t local_groups = 0;
    STRATUS_TRY(body.u32(local_groups));
    for (uint32_t g = 0; g < local_groups; ++g) {
      STRATUS_TRY(body.skip_leb(5));  // how many locals of this type
      STRATUS_TRY(value_type(body));
    }
    size_t expr_begin = body.pos();
    expr.clear();
    ExpressionLowerer lowerer(module, body, expr);
    STRATUS_TRY(lowerer.run(body_end));
    if (lowerer.changed()) {
      size_t new_size = (expr_begin - body_begin) + expr.size();
      if (new_size > UINT32_MAX) return error_at(body_at, "rewritten function body is larger than 4 GiB");
      write_u32(out, static_cast<uint32_t>(new_size));
      out.insert(out.end(), module.begin() + static_cast<std::ptrdiff_t>(body_begin),
                 module.begin() + static_cast<std::ptrdiff_t>(expr_begin));
      out.insert(out.end(), expr.begin(), expr.end());
      changed = true;
    } else {
      out.insert(out.end(), module.begin() + static_cast<std::ptrdiff_t>(body_at),
                 module.begin() + static_cast<std::ptrdiff_t>(body_end));
    }
    STRATUS_TRY(r.skip(size));
  }
  if (!r.at_end()) return error_at(r.pos(), "code section continues after its last function body");
  return changed;
}

}  // namespace

Result<std::optional<std::vector<uint8_t>>> lower_try_table(std::span<const uint8_t> module) {
  static constexpr uint8_t kPreamble[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  if (module.size() < sizeof kPreamble || !std::equal(std::begin(kPreamble), std::end(kPreamble), module.begin()))
    return error_at(0, "not a core WebAssembly module (no \\0asm version 1 preamble)");
  std::vector<uint8_t> out(std::begin(kPreamble), std::end(kPreamble));
  out.reserve(module.size() + module.size() / 8);
  bool changed = false;
  Reader r(module, sizeof kPreamble, module.size(), "module");
  while (!r.at_end()) {
    size_t section_at = r.pos();
    uint8_t id = 0;
    uint32_t size = 0;
    STRATUS_TRY(r.u8(id));
    STRATUS_TRY(r.u32(size));
    size_t begin = r.pos();
    if (size > module.size() - begin)
      return error_at(section_at, "section " + std::to_string(id) + " runs past the end of the module");
    size_t end = begin + size;
    if (id == 1) STRATUS_TRY(check_type_section(module, begin, end));
    std::vector<uint8_t> code;
    bool code_changed = false;
    if (id == 10) {
      auto lowered = lower_code_section(module, begin, end, code);
      if (!lowered.ok()) return std::move(lowered).error();
      code_changed = *lowered;
    }
    if (code_changed) {
      if (code.size() > UINT32_MAX) return error_at(section_at, "rewritten code section is larger than 4 GiB");
      out.push_back(id);
      write_u32(out, static_cast<uint32_t>(code.size()));
      out.insert(out.end(), code.begin(), code.end());
      changed = true;
    } else {
      out.insert(out.end(), module.begin() + static_cast<std::ptrdiff_t>(section_at),
                 module.begin() + static_cast<std::ptrdiff_t>(end));
    }
    STRATUS_TRY(r.skip(size));
  }
  if (!changed) return std::optional<std::vector<uint8_t>>();
  return std::optional<std::vector<uint8_t>>(std::move(out));
}

}  // namespace stratus::engine

// component_spec_runner: runs the Component Model's reference tests
// (fixtures/component-model/**/*.wast, converted by wast_to_json.mjs) on one
// engine backend, through the decoder and the component runtime only.
//
//   component_spec_runner --engine aot|interp --manifests DIR --fixtures DIR [--verbose]
//
// Prints one line per script and a total:
//   component-model [interp]: N passed, N failed, N skipped (F files, F with failures)
// with the reason for every skip. The scripts nyi.txt lists (behaviour the
// reference interpreter does not implement yet) run like the others. Exit code
// 1 if anything not in known_failures.txt failed, or a listed one passed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "component/binary/decoder.h"
#include "component/runtime/runtime.h"
#include "engine/engine.h"
#include "support/file.h"
#include "tests/support/known_failures.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace stratus;
using namespace stratus::component;

namespace {

struct Counts {
  size_t passed = 0, failed = 0, skipped = 0;
};

// ------------------------------------------------------------ literals

std::string atom(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("s")) return j["s"].get<std::string>();
  return j.dump();
}

Result<uint64_t> parse_int(std::string text, bool is_signed) {
  text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
  bool negative = !text.empty() && text[0] == '-';
  if (negative || (!text.empty() && text[0] == '+')) text = text.substr(1);
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || end == text.c_str() || *end != 0) return make_error("bad integer literal `" + text + "`");
  if (negative) {
    if (!is_signed && v != 0) return make_error("negative literal for an unsigned type");
    return static_cast<uint64_t>(-static_cast<int64_t>(v));
  }
  return static_cast<uint64_t>(v);
}

Result<Val> literal(const json& lit, const ValType& type);

// A literal given inline after a field name: ["field", "n", "u32.const", "7"]
// or ["field", "scores", "list.const", [...], ...].
Result<Val> inline_literal(const json& field, const ValType& type) {
  json lit = json::array();
  for (size_t i = 2; i < field.size(); ++i) lit.push_back(field[i]);
  if (lit.size() == 1 && lit[0].is_array()) return literal(lit[0], type);
  return literal(lit, type);
}

Result<Val> literal(const json& lit, const ValType& type) {
  if (!lit.is_array() || lit.empty()) return make_error("bad literal " + lit.dump());
  std::string head = atom(lit[0]);
  auto arg = [&](size_t i) -> std::string { return i < lit.size() ? atom(lit[i]) : std::string(); };
  if (type.is_primitive()) {
    PrimType p = type.primitive();
    switch (p) {
      case PrimType::Bool: return Val::boolean(arg(1) == "true");
      case PrimType::Char: {
        std::string s = arg(1);
        if (s.empty()) return make_error("empty char literal");
        const auto* b = reinterpret_cast<const unsigned char*>(s.data());
        char32_t cp = b[0];
        size_t n = b[0] < 0x80 ? 1 : b[0] < 0xE0 ? 2 : b[0] < 0xF0 ? 3 : 4;
        if (n > 1) cp = b[0] & (0x7F >> n);
        for (size_t k = 1; k < n && k < s.size(); ++k) cp = (cp << 6) | (b[k] & 0x3F);
        return Val::character(cp);
      }
      case PrimType::String: return Val::string(arg(1));
      case PrimType::F32:
      case PrimType::F64: {
        std::string s = arg(1);
        s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
        if (head.find("reinterpret") != std::string::npos) {
          auto bits = parse_int(s, false);
          if (!bits.ok()) return std::move(bits).error();
          return p == PrimType::F32 ? Val::f32_bits(static_cast<uint32_t>(*bits)) : Val::f64_bits(*bits);
        }
        if (s.rfind("nan", 0) == 0 || s.rfind("-nan", 0) == 0 || s.rfind("+nan", 0) == 0) {
          bool neg = s[0] == '-';
          return p == PrimType::F32 ? Val::f32_bits(neg ? 0xffc00000u : 0x7fc00000u)
                                    : Val::f64_bits(neg ? 0xfff8000000000000ull : 0x7ff8000000000000ull);
        }
        double d = std::strtod(s.c_str(), nullptr);
        return p == PrimType::F32 ? Val::f32(static_cast<float>(d)) : Val::f64(d);
      }
      default: {
        bool is_signed = p == PrimType::S8 || p == PrimType::S16 || p == PrimType::S32 || p == PrimType::S64;
        auto v = parse_int(arg(1), is_signed);
        if (!v.ok()) return std::move(v).error();
        switch (p) {
          case PrimType::S8: return Val::s8(static_cast<int8_t>(*v));
          case PrimType::U8: return Val::u8(static_cast<uint8_t>(*v));
          case PrimType::S16: return Val::s16(static_cast<int16_t>(*v));
          case PrimType::U16: return Val::u16(static_cast<uint16_t>(*v));
          case PrimType::S32: return Val::s32(static_cast<int32_t>(*v));
          case PrimType::U32: return Val::u32(static_cast<uint32_t>(*v));
          case PrimType::S64: return Val::s64(static_cast<int64_t>(*v));
          default: return Val::u64(*v);
        }
      }
    }
  }
  const auto& d = type.defined();
  if (const auto* list = std::get_if<ListType>(&d.kind)) {
    std::vector<Val> items;
    for (size_t i = 1; i < lit.size(); ++i) {
      auto v = literal(lit[i], list->element);
      if (!v.ok()) return v;
      items.push_back(std::move(*v));
    }
    return Val::list(std::move(items));
  }
  if (const auto* tup = std::get_if<TupleType>(&d.kind)) {
    std::vector<Val> items;
    for (size_t i = 1; i < lit.size() && i - 1 < tup->elements.size(); ++i) {
      auto v = literal(lit[i], tup->elements[i - 1]);
      if (!v.ok()) return v;
      items.push_back(std::move(*v));
    }
    return Val::tuple(std::move(items));
  }
  if (const auto* rec = std::get_if<RecordType>(&d.kind)) {
    std::vector<Val> fields;
    for (const auto& f : rec->fields) {
      const json* found = nullptr;
      for (size_t i = 1; i < lit.size(); ++i)
        if (lit[i].is_array() && lit[i].size() >= 3 && atom(lit[i][1]) == f.name) found = &lit[i];
      if (found == nullptr) return make_error("record literal lacks field `" + f.name + "`");
      auto v = inline_literal(*found, f.type);
      if (!v.ok()) return v;
      fields.push_back(std::move(*v));
    }
    return Val::record(std::move(fields));
  }
  if (const auto* var = std::get_if<VariantType>(&d.kind)) {
    std::string name = arg(1);
    for (uint32_t i = 0; i < var->cases.size(); ++i) {
      if (var->cases[i].name != name) continue;
      std::optional<Val> payload;
      if (var->cases[i].type && lit.size() > 2) {
        auto v = literal(lit[2], *var->cases[i].type);
        if (!v.ok()) return v;
        payload = std::move(*v);
      }
      return Val::variant(i, std::move(payload));
    }
    return make_error("no variant case `" + name + "`");
  }
  if (const auto* en = std::get_if<EnumType>(&d.kind)) {
    auto it = std::find(en->names.begin(), en->names.end(), arg(1));
    if (it == en->names.end()) return make_error("no enum case `" + arg(1) + "`");
    return Val::enumeration(static_cast<uint32_t>(it - en->names.begin()));
  }
  if (const auto* fl = std::get_if<FlagsType>(&d.kind)) {
    std::vector<uint32_t> set;
    for (size_t i = 1; i < lit.size(); ++i) {
      auto it = std::find(fl->names.begin(), fl->names.end(), atom(lit[i]));
      if (it == fl->names.end()) return make_error("no flag `" + atom(lit[i]) + "`");
      set.push_back(static_cast<uint32_t>(it - fl->names.begin()));
    }
    return Val::flags(std::move(set));
  }
  if (const auto* opt = std::get_if<OptionType>(&d.kind)) {
    if (head == "option.none") return Val::option(std::nullopt);
    auto v = literal(lit[1], opt->element);
    if (!v.ok()) return v;
    return Val::option(std::move(*v));
  }
  if (const auto* res = std::get_if<ResultType>(&d.kind)) {
    bool ok = head == "result.ok";
    const auto& t = ok ? res->ok : res->err;
    std::optional<Val> payload;
    if (t && lit.size() > 1) {
      auto v = literal(lit[1], *t);
      if (!v.ok()) return v;
      payload = std::move(*v);
    }
    return ok ? Val::ok(std::move(payload)) : Val::err(std::move(payload));
  }
  return make_error("unsupported literal " + head);
}

// ------------------------------------------------------------ one script

class ScriptRun {
 public:
  ScriptRun(engine::Engine& engine, const fs::path& dir, bool verbose)
      : linker_(engine), dir_(dir), verbose_(verbose) {}

  Counts run(const json& commands) {
    for (const auto& c : commands) {
      std::string type = c["type"];
      int line = c.value("line", 0);
      auto r = command(type, c);
      if (!r.ok()) {
        counts_.failed++;
        failed_lines_.push_back(line);
        if (failures_shown_++ < 8) std::printf("    line %d: %s: %s\n", line, type.c_str(), r.error().message.c_str());
      } else if (skip_) {
        counts_.skipped++;
        std::printf("    line %d: skipped %s: %s\n", line, type.c_str(), skip_->c_str());
        skip_.reset();
      } else if (counted_) {
        counts_.passed++;
      }
      counted_ = true;
    }
    return counts_;
  }
  const std::vector<int>& failed_lines() const { return failed_lines_; }

 private:
  Result<ComponentPtr> decode(const json& c) {
    if (c.contains("error") && !c["error"].is_null())
      return make_error("jco could not parse the text: " + c["error"].get<std::string>());
    auto bytes = read_file(dir_ / c["file"].get<std::string>());
    if (!bytes.ok()) return std::move(bytes).error();
    return decode_component(*bytes);
  }

  Result<void> command(const std::string& type, const json& c) {
    if (type == "component" || type == "definition") {
      counted_ = false;  // setup, not an assertion (failures still count)
      auto comp = decode(c);
      if (!comp.ok()) return std::move(comp).error().context("decode");
      if (c.contains("name") && !c["name"].is_null()) definitions_[c["name"]] = *comp;
      last_definition_ = *comp;
      if (type == "definition") return {};
      auto inst = linker_.instantiate(*comp);
      if (!inst.ok()) return std::move(inst).error().context("instantiate");
      current_ = *inst;
      return {};
    }
    if (type == "instance") {
      counted_ = false;
      std::string of = c["of"];
      auto it = definitions_.find(of);
      if (it == definitions_.end()) return make_error("no definition named " + of);
      auto inst = linker_.instantiate(it->second);
      if (!inst.ok()) return std::move(inst).error().context("instantiate " + of);
      current_ = *inst;
      if (c.contains("name") && !c["name"].is_null()) instances_[c["name"]] = current_;
      return {};
    }
    if (type == "assert_return" || type == "assert_trap" || type == "invoke") {
      auto outcome = invoke(c["action"]);
      if (!outcome.ok()) return std::move(outcome).error();
      if (type == "assert_trap") {
        if (outcome->trapped()) {
          if (verbose_)
            std::printf("    trap: %s (expected: %s)\n", outcome->trap().message.c_str(),
                        c.value("text", std::string()).c_str());
          return {};
        }
        if (outcome->failed()) return make_error("expected a trap, got an error: " + outcome->error().message);
        return make_error("expected a trap, the call returned");
      }
      if (outcome->trapped()) return make_error("unexpected trap: " + outcome->trap().message);
      if (outcome->failed()) return make_error("call failed: " + outcome->error().message);
      if (type == "invoke") return {};
      const auto& expected = c["expected"];
      const auto& result = outcome->result();
      if (expected.empty()) {
        if (result) return make_error("expected no result, got " + to_string(*result));
        return {};
      }
      if (!result) return make_error("expected a result, got none");
      auto ft = func_type(c["action"]);
      if (!ft.ok()) return std::move(ft).error();
      auto want = literal(expected[0], *(*ft)->result);
      if (!want.ok()) return std::move(want).error().context("expected value");
      if (!(*want == *result)) return make_error("expected " + to_string(*want) + ", got " + to_string(*result));
      return {};
    }
    if (type == "assert_invalid" || type == "assert_malformed") {
      if (c.contains("error") && !c["error"].is_null()) {
        if (type == "assert_malformed") return {};  // the text itself is malformed: jco rejects it
        skip_ = "jco's text parser rejects this invalid component before it is a binary (" +
                c["error"].get<std::string>().substr(0, 120) + ")";
        return {};
      }
      auto comp = decode(c);
      if (comp.ok())
        return make_error("decoded a component that must be rejected (" + c.value("text", std::string()) + ")");
      if (verbose_) std::printf("    rejected: %s\n", comp.error().message.c_str());
      return {};
    }
    if (type == "assert_unlinkable" || type == "assert_trap_instantiate") {
      auto comp = decode(c);
      if (!comp.ok()) return std::move(comp).error().context("decode");
      auto inst = linker_.instantiate(*comp);
      if (inst.ok())
        return make_error("instantiation succeeded but must fail (" + c.value("text", std::string()) + ")");
      return {};
    }
    skip_ = "directive `" + type + "` is not supported by this runner";
    return {};
  }

  Result<FuncTypePtr> func_type(const json& action) {
    auto inst = target(action);
    if (!inst.ok()) return std::move(inst).error();
    auto t = (*inst)->export_type(action["func"].get<std::string>());
    if (!t) return make_error("no export named `" + action["func"].get<std::string>() + "`");
    const auto* f = std::get_if<FuncTypePtr>(&*t);
    if (f == nullptr) return make_error("export is not a function");
    return *f;
  }

  Result<std::shared_ptr<ComponentInstance>> target(const json& action) {
    if (action.contains("instance") && !action["instance"].is_null()) {
      auto it = instances_.find(action["instance"]);
      if (it == instances_.end()) return make_error("no instance named " + action["instance"].get<std::string>());
      return it->second;
    }
    if (!current_) return make_error("no component instance to invoke");
    return current_;
  }

  Result<CallOutcome> invoke(const json& action) {
    auto ft = func_type(action);
    if (!ft.ok()) return std::move(ft).error();
    std::vector<Val> args;
    const auto& lits = action["args"];
    if (lits.size() != (*ft)->params.size()) return make_error("wrong number of arguments in the script");
    for (size_t i = 0; i < lits.size(); ++i) {
      auto v = literal(lits[i], (*ft)->params[i].type);
      if (!v.ok()) return std::move(v).error().context("argument " + std::to_string(i));
      args.push_back(std::move(*v));
    }
    auto inst = target(action);
    return (*inst)->call(action["func"].get<std::string>(), args);
  }

  Linker linker_;
  fs::path dir_;
  bool verbose_;
  Counts counts_;
  std::optional<std::string> skip_;
  bool counted_ = true;
  size_t failures_shown_ = 0;
  std::vector<int> failed_lines_;
  std::map<std::string, ComponentPtr> definitions_;
  std::map<std::string, std::shared_ptr<ComponentInstance>> instances_;
  std::shared_ptr<ComponentInstance> current_;
  ComponentPtr last_definition_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string engine_name = "interp", manifests, fixtures, cache_dir, known_failures_file;
  bool verbose = false;
  bool write_known = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--engine")
      engine_name = next();
    else if (a == "--manifests")
      manifests = next();
    else if (a == "--fixtures")
      fixtures = next();
    else if (a == "--cache-dir")
      cache_dir = next();
    else if (a == "--known-failures")
      known_failures_file = next();
    else if (a == "--write-known-failures")
      write_known = true;
    else if (a == "--verbose")
      verbose = true;
    else {
      std::fprintf(stderr,
                   "usage: component_spec_runner --manifests DIR --fixtures DIR [--engine aot|interp] "
                   "[--cache-dir DIR] [--known-failures FILE [--write-known-failures]] [--verbose]\n");
      return 2;
    }
  }
  std::error_code ec;
  if (manifests.empty() || !fs::is_directory(manifests, ec)) {
    std::fprintf(stderr, "component_spec_runner: --manifests must name the folder wast_to_json.mjs wrote\n");
    return 2;
  }
  engine::EngineOptions options;
  options.cache_dir = cache_dir;
  auto engine = engine::make_engine(engine_name, options);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.error().message.c_str());
    return 2;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(manifests))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  // The failures this runtime is known to have (file:line), so that CI fails
  // on any new failure and on any listed one that now passes (the list
  // only shrinks). See known_failures.txt.
  std::set<std::string> known;
  if (!known_failures_file.empty()) known = testing::read_known_failures(known_failures_file);
  std::set<std::string> failed_now;

  Counts total;
  size_t scripts = 0, with_failures = 0;
  for (const auto& f : files) {
    std::ifstream in(f);
    json manifest = json::parse(in, nullptr, false);
    if (manifest.is_discarded()) {
      std::printf("%s: unreadable manifest\n", f.filename().c_str());
      total.failed++;
      continue;
    }
    std::string source = manifest["source"];
    std::string rel = fs::relative(source, fixtures).lexically_normal().string();
    ++scripts;
    ScriptRun run(**engine, f.parent_path(), verbose);
    auto counts = run.run(manifest["commands"]);
    for (int line : run.failed_lines()) failed_now.insert(rel + ":" + std::to_string(line));
    std::printf("%s: %zu passed, %zu failed, %zu skipped\n", rel.c_str(), counts.passed, counts.failed, counts.skipped);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    if (counts.failed > 0) ++with_failures;
  }
  std::printf("component-model [%s]: %zu passed, %zu failed, %zu skipped (%zu files, %zu with failures)\n",
              engine_name.c_str(), total.passed, total.failed, total.skipped, scripts, with_failures);
  if (write_known) {
    testing::write_known_failures(
        known_failures_file,
        "# Component Model reference-test commands the runtime does not pass yet (file:line).\n"
        "# Written by component_spec_runner --write-known-failures; CI fails on any failure not\n"
        "# listed here and on any listed one that passes, so this list only shrinks.\n",
        failed_now);
    return 0;
  }
  if (known_failures_file.empty()) return total.failed == 0 ? 0 : 1;
  return testing::check_known_failures("component-model [" + engine_name + "]", known_failures_file, known, failed_now)
             ? 0
             : 1;
}

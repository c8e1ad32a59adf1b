#include "script_runner.h"

#include <algorithm>
#include <cctype>

#include "spec_value.h"
#include "support/file.h"

namespace stratus::conformance {
namespace {

using engine::TrapKind;
using nlohmann::json;

// The trap an assert_trap's text names; nullopt where the spec text does not
// pin one kind down.
std::optional<TrapKind> expected_trap(const std::string& text) {
  struct Rule {
    const char* prefix;
    TrapKind kind;
  };
  static const Rule rules[] = {
      {"out of bounds memory access", TrapKind::MemoryOutOfBounds},
      {"out of bounds table access", TrapKind::TableOutOfBounds},
      {"undefined element", TrapKind::TableOutOfBounds},
      {"uninitialized element", TrapKind::IndirectCallNull},
      {"indirect call type mismatch", TrapKind::IndirectCallMismatch},
      {"integer divide by zero", TrapKind::IntegerDivideByZero},
      {"integer overflow", TrapKind::IntegerOverflow},
      {"invalid conversion to integer", TrapKind::InvalidConversion},
      {"unreachable", TrapKind::Unreachable},
      {"call stack exhausted", TrapKind::StackExhausted},
  };
  for (const auto& rule : rules) {
    if (text.rfind(rule.prefix, 0) == 0) return rule.kind;
  }
  return std::nullopt;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// A backend reports a feature it lacks with an error saying "unsupported" or
// "not supported"; such modules (and what depends on them) are skipped.
bool is_unsupported(const std::string& message) {
  std::string text = lower(message);
  return text.find("unsupported") != std::string::npos || text.find("not supported") != std::string::npos;
}

std::string describe_action(const json& action) {
  std::string out = action.value("type", "") + " ";
  if (action.contains("module") && action["module"].is_string()) out += action["module"].get<std::string>() + ".";
  out += "\"" + action.value("field", "") + "\"";
  if (action.contains("args")) {
    out += "(";
    bool first = true;
    for (const auto& arg : action["args"]) {
      if (!first) out += ", ";
      first = false;
      const json& v = arg.contains("value") ? arg["value"] : json();
      out += arg.value("type", "") + ":" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    out += ")";
  }
  return out;
}

}  // namespace

std::string proposal_of(const std::string& script_name) { return script_name.rfind("simd", 0) == 0 ? "simd" : "core"; }

// One reason per missing feature, not per script: the script-name prefix a
// backend may put on its message is dropped.
std::string ScriptRunner::skip_reason_for(const std::string& message) const {
  std::string text = message;
  std::string prefix = script_name_ + ": ";
  if (text.rfind(prefix, 0) == 0) text.erase(0, prefix.size());
  std::string proposal = lower(text).find("simd") != std::string::npos ? "simd" : proposal_of(script_name_);
  return proposal + ": " + text;
}

ScriptRunner::ScriptRunner(engine::Engine& engine, std::string script_name, std::filesystem::path json_dir)
    : engine_(engine), script_name_(std::move(script_name)), json_dir_(std::move(json_dir)) {}

void ScriptRunner::fail(const json& command, const std::string& what) {
  ++outcome_.failed;
  outcome_.failures.push_back("line " + std::to_string(command.value("line", 0)) + ": " + command.value("type", "?") +
                              ": " + what);
}

ScriptOutcome ScriptRunner::run(const json& script) {
  add_spectest();
  const json& commands = script.at("commands");
  compile_all(commands);
  for (const auto& command : commands) run_command(command);
  return std::move(outcome_);
}

// One compile_many call per script: the aot backend builds all of a script's
// modules with one compiler run.
void ScriptRunner::compile_all(const json& commands) {
  std::vector<std::string> names;
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& command : commands) {
    if (!command.contains("filename") || command.value("module_type", "binary") != "binary") continue;
    std::string filename = command["filename"];
    if (compiled_.count(filename) || std::find(names.begin(), names.end(), filename) != names.end()) continue;
    auto data = read_file(json_dir_ / filename);
    if (!data) {
      compiled_[filename] = Compiled{nullptr, data.error().message, std::nullopt};
      continue;
    }
    names.push_back(filename);
    bytes.push_back(std::move(*data));
  }
  std::vector<std::span<const uint8_t>> spans(bytes.begin(), bytes.end());
  engine::CompileOptions options;
  options.name = script_name_;
  auto results = engine_.compile_many(spans, options);
  for (size_t i = 0; i < names.size(); ++i) {
    Compiled c;
    if (i >= results.size()) {
      c.error = "compile_many returned too few results";
    } else if (results[i]) {
      c.module = std::move(*results[i]);
    } else {
      c.error = results[i].error().message;
      if (is_unsupported(c.error)) c.skip_reason = skip_reason_for(c.error);
    }
    compiled_[names[i]] = std::move(c);
  }
}

const ScriptRunner::Compiled& ScriptRunner::compiled(const std::string& filename) {
  static const Compiled missing{nullptr, "module was not compiled", std::nullopt};
  auto it = compiled_.find(filename);
  return it == compiled_.end() ? missing : it->second;
}

void ScriptRunner::add_spectest() {
  using engine::ValType;
  Exports& spectest = registry_["spectest"];
  struct Print {
    const char* name;
    std::vector<ValType> params;
  };
  const Print prints[] = {
      {"print", {}},
      {"print_i32", {ValType::I32}},
      {"print_i64", {ValType::I64}},
      {"print_f32", {ValType::F32}},
      {"print_f64", {ValType::F64}},
      {"print_i32_f32", {ValType::I32, ValType::F32}},
      {"print_f64_f64", {ValType::F64, ValType::F64}},
  };
  for (const auto& print : prints) {
    spectest[print.name] = engine_.host_func(engine::FuncType{print.params, {}},
                                             [](engine::Caller&, std::span<const engine::Value>,
                                                std::span<engine::Value>) { return std::optional<engine::Trap>(); });
  }
  auto global = [&](const char* name, engine::Value value) {
    auto g = engine_.host_global(engine::GlobalType{value.type(), false}, value);
    if (g) spectest[name] = *g;
  };
  global("global_i32", engine::Value::i32(666));
  global("global_i64", engine::Value::i64(666));
  global("global_f32", engine::Value::f32(666.0f));
  global("global_f64", engine::Value::f64(666.0));
  if (auto table = engine_.host_table(engine::TableType{ValType::FuncRef, {10, 20}})) spectest["table"] = *table;
  if (auto memory = engine_.host_memory(engine::MemoryType{{1, 2}})) spectest["memory"] = *memory;
}

void ScriptRunner::run_command(const json& command) {
  std::string type = command.value("type", "");
  if (type == "module") return on_module(command);
  if (type == "register") return on_register(command);
  if (type == "action" || type == "assert_return" || type == "assert_trap" || type == "assert_exhaustion") {
    return on_action(command, type);
  }
  if (type == "assert_invalid" || type == "assert_malformed" || type == "assert_unlinkable" ||
      type == "assert_uninstantiable") {
    return on_bad_module(command, type);
  }
  skip("unknown command type '" + type + "'");
}

std::vector<engine::ImportValue> ScriptRunner::imports_for(const engine::Module& module,
                                                           std::optional<std::string>& skip) {
  std::vector<engine::ImportValue> out;
  for (const auto& import : module.imports()) {
    if (auto s = skipped_registrations_.find(import.module); s != skipped_registrations_.end()) skip = s->second;
    auto m = registry_.find(import.module);
    if (m == registry_.end()) continue;
    auto e = m->second.find(import.name);
    if (e == m->second.end()) continue;
    out.push_back(engine::ImportValue{import.module, import.name, e->second});
  }
  return out;
}

void ScriptRunner::on_module(const json& command) {
  Slot slot;
  const Compiled& c = compiled(command.value("filename", ""));
  if (c.skip_reason) {
    slot.skip_reason = c.skip_reason;
    skip(*c.skip_reason);
  } else if (!c.module) {
    fail(command, "compile failed: " + c.error);
  } else {
    std::optional<std::string> skip_reason;
    auto imports = imports_for(*c.module, skip_reason);
    if (skip_reason) {
      slot.skip_reason = skip_reason;
      skip(*skip_reason);
    } else {
      auto made = engine_.instantiate(c.module, imports);
      if (auto* instance = std::get_if<std::shared_ptr<engine::Instance>>(&made)) {
        slot.instance = *instance;
        pass();
      } else if (auto* trap = std::get_if<engine::Trap>(&made)) {
        fail(command, "instantiation trapped: " + trap->message);
      } else if (const auto& error = std::get<Error>(made).message; is_unsupported(error)) {
        slot.skip_reason = skip_reason_for(error);
        skip(*slot.skip_reason);
      } else {
        fail(command, "instantiation failed: " + error);
      }
    }
  }
  current_ = slot;
  if (command.contains("name")) named_[command["name"]] = slot;
}

void ScriptRunner::on_register(const json& command) {
  const Slot* slot = nullptr;
  if (command.contains("name")) {
    auto it = named_.find(command["name"]);
    if (it != named_.end()) slot = &it->second;
  } else if (current_) {
    slot = &*current_;
  }
  std::string as = command.value("as", "");
  if (!slot || !slot->instance) {
    if (slot && slot->skip_reason) skipped_registrations_[as] = *slot->skip_reason;
    return;  // like spectest-interp, register is not a counted command
  }
  Exports& exports = registry_[as];
  for (const auto& desc : slot->instance->module().exports()) {
    if (auto e = slot->instance->get_export(desc.name)) exports[desc.name] = *e;
  }
}

const ScriptRunner::Slot* ScriptRunner::instance_for(const json& action) {
  if (action.contains("module")) {
    auto it = named_.find(action["module"]);
    return it == named_.end() ? nullptr : &it->second;
  }
  return current_ ? &*current_ : nullptr;
}

void ScriptRunner::on_action(const json& command, const std::string& type) {
  const json& action = command.at("action");
  const Slot* slot = instance_for(action);
  if (slot && slot->skip_reason) return skip(*slot->skip_reason);
  if (!slot || !slot->instance) return fail(command, "no instance for " + describe_action(action));

  std::optional<engine::CallResult> result;
  std::string field = action.value("field", "");
  if (action.value("type", "") == "get") {
    auto e = slot->instance->get_export(field);
    if (!e || engine::kind_of(*e) != engine::ExternKind::Global) return fail(command, "no global " + field);
    result.emplace(std::vector<engine::Value>{std::get<std::shared_ptr<engine::Global>>(*e)->get()});
  } else {
    std::vector<engine::Value> args;
    for (const auto& arg : action.value("args", json::array())) {
      auto v = parse_value(arg);
      if (!v) return fail(command, "bad argument: " + v.error().message);
      args.push_back(*v);
    }
    result.emplace(slot->instance->call(field, args));
  }

  std::string what = describe_action(action);
  if (!result->ok() && !result->trapped()) {
    if (is_unsupported(result->error().message)) return skip(skip_reason_for(result->error().message));
    return fail(command, what + ": " + result->error().message);
  }
  if (type == "action" || type == "assert_return") {
    if (result->trapped()) return fail(command, what + ": unexpected " + result->describe());
    if (type == "action") return pass();
    const json& expected = command.at("expected");
    const auto& values = result->values();
    if (values.size() != expected.size()) {
      return fail(command, what + ": expected " + std::to_string(expected.size()) + " results, got " +
                               std::to_string(values.size()));
    }
    for (size_t i = 0; i < values.size(); ++i) {
      if (auto diff = check_value(expected[i], values[i])) {
        return fail(command, what + ": result " + std::to_string(i) + ": " + *diff);
      }
    }
    return pass();
  }
  // assert_trap, assert_exhaustion
  std::string text = command.value("text", "");
  if (!result->trapped()) return fail(command, what + ": expected trap '" + text + "', got a result");
  auto want = type == "assert_exhaustion" ? std::optional(TrapKind::StackExhausted) : expected_trap(text);
  if (want && result->trap().kind != *want) {
    return fail(command, what + ": expected trap '" + text + "', got " + result->describe());
  }
  pass();
}

void ScriptRunner::on_bad_module(const json& command, const std::string& type) {
  std::string text = command.value("text", "");
  if (command.value("module_type", "binary") != "binary") {
    return skip("text format: malformed .wat modules test the text parser, not the engine");
  }
  const Compiled& c = compiled(command.value("filename", ""));
  if (type == "assert_invalid" || type == "assert_malformed") {
    if (c.module) return fail(command, "module compiled, expected it to be rejected: " + text);
    return pass();
  }
  if (c.skip_reason) return skip(*c.skip_reason);
  if (!c.module) return fail(command, "compile failed: " + c.error);
  std::optional<std::string> skip_reason;
  auto imports = imports_for(*c.module, skip_reason);
  if (skip_reason) return skip(*skip_reason);
  auto made = engine_.instantiate(c.module, imports);
  bool trapped = std::holds_alternative<engine::Trap>(made);
  bool errored = std::holds_alternative<Error>(made);
  if (type == "assert_unlinkable") {
    if (errored) return pass();
    return fail(command, std::string("expected a link error '") + text + "', got " +
                             (trapped ? "a trap: " + std::get<engine::Trap>(made).message : "an instance"));
  }
  if (trapped) return pass();  // assert_uninstantiable
  return fail(command, std::string("expected a trap '") + text + "', got " +
                           (errored ? "an error: " + std::get<Error>(made).message : "an instance"));
}

}  // namespace stratus::conformance

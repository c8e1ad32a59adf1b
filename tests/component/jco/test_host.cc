#include "test_host.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "component/binary/subtype.h"

namespace stratus::test {
namespace {

using component::Val;

// "wasi:cli/stdout@0.2.3#get-stdout" -> "wasi:cli/stdout@0.2#get-stdout":
// implementations of 0.2 serve every 0.2.x import, as Wasmtime binds them.
std::string key(const std::string& path) {
  auto at = path.find("@0.2.");
  if (at == std::string::npos) return path;
  auto end = path.find_first_not_of("0123456789", at + 5);
  return path.substr(0, at + 4) + (end == std::string::npos ? "" : path.substr(end));
}

engine::Trap trap(const std::string& message) { return engine::Trap{engine::TrapKind::Other, message, 0}; }

using Outcome = std::variant<std::optional<Val>, engine::Trap>;

Outcome ok_unit() { return std::optional<Val>(Val::ok(std::nullopt)); }

}  // namespace

component::ResourceTypePtr TestHost::resource(const std::string& iface, const std::string& name) {
  std::string k = key(iface) + "#" + name;
  auto& slot = resources_[k];
  if (slot == nullptr) {
    auto r = std::make_shared<component::ResourceType>();
    r->name = name;
    r->destructor = [this, k](uint32_t rep) -> Result<void> {
      drops_[k] += 1;
      output_streams_.erase(rep);
      return {};
    };
    slot = r;
  }
  return slot;
}

component::HostFunc TestHost::host_func(const std::string& path, component::FuncTypePtr type) {
  auto it = impls_.find(key(path));
  if (it != impls_.end()) return {std::move(type), it->second};
  return {std::move(type), [path](component::CallContext&, std::span<const Val>) -> Outcome {
            return trap("`" + path + "` is not implemented by the test host");
          }};
}

Result<component::HostInstance> TestHost::host_instance(
    const std::string& iface, const component::InstanceType& type,
    std::map<const component::ResourceType*, component::ResourceTypePtr>& resources) {
  component::HostInstance hi;
  for (const auto& e : type.exports) {
    if (const auto* b = std::get_if<component::TypeBound>(&e.type)) {
      if (const auto* r = std::get_if<component::ResourceTypePtr>(&b->type)) {
        auto found = resources.find(r->get());
        auto rt = found != resources.end() ? found->second : resource(iface, e.name);
        resources.emplace(r->get(), rt);
        hi.resources[e.name] = rt;
      } else {
        hi.types[e.name] = std::get<component::ValType>(b->type);
      }
    }
  }
  for (const auto& e : type.exports) {
    if (const auto* f = std::get_if<component::FuncTypePtr>(&e.type)) {
      auto host_type = std::get<component::FuncTypePtr>(component::binary::substitute(*f, resources));
      hi.funcs[e.name] = host_func(iface + "#" + e.name, host_type);
    } else if (!std::holds_alternative<component::TypeBound>(e.type)) {
      return make_error("import `" + iface + "`: export `" + e.name + "` is not a function or a type");
    }
  }
  return hi;
}

Result<void> TestHost::define_imports(component::Linker& linker, const component::Component& c) {
  std::map<const component::ResourceType*, component::ResourceTypePtr> resources;
  for (const auto& import : c.type->imports) {
    std::string bare = import.name.substr(0, import.name.find('@'));
    if (std::find(skipped_.begin(), skipped_.end(), import.name) != skipped_.end() ||
        std::find(skipped_.begin(), skipped_.end(), bare) != skipped_.end())
      continue;
    if (const auto* i = std::get_if<component::InstanceTypePtr>(&import.type)) {
      auto hi = host_instance(import.name, **i, resources);
      if (!hi.ok()) return std::move(hi).error();
      STRATUS_TRY(linker.define_instance(import.name, std::move(*hi)));
    } else if (const auto* f = std::get_if<component::FuncTypePtr>(&import.type)) {
      auto host_type = std::get<component::FuncTypePtr>(component::binary::substitute(*f, resources));
      STRATUS_TRY(linker.define_func(import.name, host_func(import.name, host_type)));
    } else if (const auto* b = std::get_if<component::TypeBound>(&import.type)) {
      const auto* r = std::get_if<component::ResourceTypePtr>(&b->type);
      if (r == nullptr) continue;  // a value type: nothing to provide
      auto found = resources.find(r->get());
      auto rt = found != resources.end() ? found->second : resource("", import.name);
      resources.emplace(r->get(), rt);
      STRATUS_TRY(linker.define_resource(import.name, rt));
    } else {
      return make_error("import `" + import.name + "` is neither an instance, a function nor a type");
    }
  }
  return {};
}

void TestHost::add_wasi() {
  auto output = [this](int which) {
    return [this, which](component::CallContext&, std::span<const Val>) -> Outcome {
      uint32_t rep = next_rep_++;
      output_streams_[rep] = which;
      return std::optional<Val>(own("wasi:io/streams@0.2", "output-stream", rep));
    };
  };
  implement("wasi:cli/stdout@0.2#get-stdout", output(kStdout));
  implement("wasi:cli/stderr@0.2#get-stderr", output(kStderr));
  implement("wasi:cli/stdin@0.2#get-stdin", [this](component::CallContext&, std::span<const Val>) -> Outcome {
    return std::optional<Val>(own("wasi:io/streams@0.2", "input-stream", next_rep_++));
  });

  // Writes go to the captured text; a stream the host does not know is an
  // error the guest sees, not a crash.
  auto write = [this](component::CallContext&, std::span<const Val> args) -> Outcome {
    auto it = output_streams_.find(args[0].as_handle().rep);
    if (it == output_streams_.end()) return std::optional<Val>(Val::err(Val::variant(1, std::nullopt)));  // closed
    std::string& out = out_[it->second];
    for (const auto& byte : args[1].items()) out.push_back(static_cast<char>(byte.as_unsigned()));
    return ok_unit();
  };
  const std::string streams = "wasi:io/streams@0.2#";
  implement(streams + "[method]output-stream.write", write);
  implement(streams + "[method]output-stream.blocking-write-and-flush", write);
  implement(streams + "[method]output-stream.check-write", [](component::CallContext&, std::span<const Val>) {
    return Outcome(std::optional<Val>(Val::ok(Val::u64(4096))));
  });
  auto flush = [](component::CallContext&, std::span<const Val>) { return ok_unit(); };
  implement(streams + "[method]output-stream.flush", flush);
  implement(streams + "[method]output-stream.blocking-flush", flush);
  auto closed = [](component::CallContext&, std::span<const Val>) {
    return Outcome(std::optional<Val>(Val::err(Val::variant(1, std::nullopt))));
  };
  implement(streams + "[method]input-stream.read", closed);
  implement(streams + "[method]input-stream.blocking-read", closed);
  implement("wasi:io/error@0.2#[method]error.to-debug-string", [](component::CallContext&, std::span<const Val>) {
    return Outcome(std::optional<Val>(Val::string("error")));
  });

  implement("wasi:clocks/wall-clock@0.2#now", [](component::CallContext&, std::span<const Val>) {
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
    return Outcome(std::optional<Val>(
        Val::record({Val::u64(static_cast<uint64_t>(secs.count())), Val::u32(static_cast<uint32_t>(nanos.count()))})));
  });
  implement("wasi:clocks/wall-clock@0.2#resolution", [](component::CallContext&, std::span<const Val>) {
    return Outcome(std::optional<Val>(Val::record({Val::u64(0), Val::u32(1)})));
  });
  implement("wasi:clocks/monotonic-clock@0.2#now", [](component::CallContext&, std::span<const Val>) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch());
    return Outcome(std::optional<Val>(Val::u64(static_cast<uint64_t>(ns.count()))));
  });

  // No preopens and no terminals: nothing is granted.
  implement("wasi:filesystem/preopens@0.2#get-directories",
            [](component::CallContext&, std::span<const Val>) { return Outcome(std::optional<Val>(Val::list({}))); });
  auto none = [](component::CallContext&, std::span<const Val>) {
    return Outcome(std::optional<Val>(Val::option(std::nullopt)));
  };
  implement("wasi:filesystem/types@0.2#filesystem-error-code", none);
  implement("wasi:cli/terminal-stdin@0.2#get-terminal-stdin", none);
  implement("wasi:cli/terminal-stdout@0.2#get-terminal-stdout", none);
  implement("wasi:cli/terminal-stderr@0.2#get-terminal-stderr", none);
  auto empty_list = [](component::CallContext&, std::span<const Val>) {
    return Outcome(std::optional<Val>(Val::list({})));
  };
  implement("wasi:cli/environment@0.2#get-environment", empty_list);
  implement("wasi:cli/environment@0.2#get-arguments", empty_list);
  implement("wasi:cli/environment@0.2#initial-cwd", none);
  implement("wasi:cli/exit@0.2#exit", [](component::CallContext&, std::span<const Val> args) {
    return Outcome(trap(std::string("guest called exit with ") + (args[0].discriminant() == 0 ? "ok" : "err")));
  });
  implement("wasi:random/random@0.2#get-random-bytes", [](component::CallContext&, std::span<const Val> args) {
    static std::mt19937_64 rng{std::random_device{}()};
    std::vector<Val> bytes;
    uint64_t n = std::min<uint64_t>(args[0].as_unsigned(), 1 << 20);
    for (uint64_t i = 0; i < n; ++i) bytes.push_back(Val::u8(static_cast<uint8_t>(rng())));
    return Outcome(std::optional<Val>(Val::list(std::move(bytes))));
  });
}

}  // namespace stratus::test

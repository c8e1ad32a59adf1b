#include "cli/grants.h"

namespace stratus::cli {

std::optional<std::pair<std::string, std::string>> split_env(const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(kv.substr(0, eq), kv.substr(eq + 1));
}

Result<void> check_env(const std::vector<std::string>& env) {
  for (const auto& kv : env)
    if (!split_env(kv)) return make_error("--env '" + kv + "': expected KEY=VALUE");
  return {};
}

wasi::p2::Preopen parse_preopen(const std::string& spec, bool read_only) {
  auto sep = spec.find("::");
  if (sep == std::string::npos) return {spec, spec, read_only};
  return {spec.substr(0, sep), spec.substr(sep + 2), read_only};
}

Result<void> add_grants(wasi::p2::WasiConfig& config, const std::vector<std::string>& env,
                        const std::vector<std::string>& dirs, const std::vector<std::string>& read_only_dirs) {
  STRATUS_TRY(check_env(env));
  for (const auto& kv : env) config.env.push_back(*split_env(kv));
  for (const auto& d : dirs) config.dirs.push_back(parse_preopen(d, false));
  for (const auto& d : read_only_dirs) config.dirs.push_back(parse_preopen(d, true));
  return {};
}

Result<void> add_socket_grants(wasi::p2::WasiConfig& config, const std::vector<std::string>& connect,
                               const std::vector<std::string>& bind, const std::vector<std::string>& lookups) {
  auto rules = [](const char* flag, const std::vector<std::string>& specs,
                  std::vector<wasi::p2::AddressRule>& into) -> Result<void> {
    for (const auto& spec : specs) {
      auto rule = wasi::p2::parse_address_rule(spec);
      if (!rule) return std::move(rule).error().context(flag);
      into.push_back(*rule);
    }
    return {};
  };
  STRATUS_TRY(rules("--allow-connect", connect, config.sockets.connect));
  STRATUS_TRY(rules("--allow-bind", bind, config.sockets.bind));
  for (const auto& spec : lookups) {
    auto name = wasi::p2::parse_lookup_name(spec);
    if (!name) return std::move(name).error().context("--allow-lookup");
    config.sockets.name_lookups.push_back(*name);
  }
  return {};
}

}  // namespace stratus::cli

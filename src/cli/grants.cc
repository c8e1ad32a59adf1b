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

}  // namespace stratus::cli

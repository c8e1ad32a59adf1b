// What the command line grants a guest, parsed the same way by `run`,
// `serve` and `run-core`: environment variables (`--env KEY=VALUE`),
// preopened directories (`--dir HOST[::GUEST]`, `--dir-ro`) and what
// wasi:sockets may reach (`--allow-connect`, `--allow-bind`, `--allow-lookup`).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/result.h"
#include "wasi/p2/ctx.h"

namespace stratus::cli {

// KEY=VALUE split at the first '='; nullopt without one or with an empty key.
std::optional<std::pair<std::string, std::string>> split_env(const std::string& kv);

// Every `--env` as KEY=VALUE, or an error naming the first that is not.
Result<void> check_env(const std::vector<std::string>& env);

// HOST[::GUEST]; the guest sees HOST's own name when GUEST is not given.
wasi::p2::Preopen parse_preopen(const std::string& spec, bool read_only);

// Adds the `--env` variables (after any already there) and the `--dir` and
// `--dir-ro` directories to `config`.
Result<void> add_grants(wasi::p2::WasiConfig& config, const std::vector<std::string>& env,
                        const std::vector<std::string>& dirs, const std::vector<std::string>& read_only_dirs);

// The socket grants: `--allow-connect ADDR:PORT`, `--allow-bind ADDR:PORT`
// (ADDR an IPv4 literal, [IPv6] or *; PORT a number or *) and
// `--allow-lookup NAME`, added to config.sockets; the error names the flag
// and the value.
Result<void> add_socket_grants(wasi::p2::WasiConfig& config, const std::vector<std::string>& connect,
                               const std::vector<std::string>& bind, const std::vector<std::string>& lookups);

}  // namespace stratus::cli

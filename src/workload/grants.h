// What a component of a workload may reach through WASI, from its merged
// local_resources: deny by default, as `stratus run` is.
//   environment                  the guest's environment variables
//   volume_mounts                preopens of the workload's volumes (read_only honoured)
//   allowed_hosts                outbound wasi:http
//   allowed_ip_name_lookups      wasi:sockets ip-name-lookup
//   allowed_host_loopback_ports  wasi:sockets may connect to these ports of
//                                127.0.0.1 and ::1 (a database on the host), and nothing else
//                                (not 127.0.0.2, not 0.0.0.0, not ::ffff:127.0.0.1)
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "support/result.h"
#include "wasi/p2/ctx.h"
#include "workload/spec.h"

namespace stratus::workload {

// `volumes`: each volume's folder on the host, by name. Errors: a mount of
// a volume not in the map.
Result<wasi::p2::WasiConfig> guest_grants(const std::string& component, const LocalResources& resources,
                                          const std::map<std::string, std::filesystem::path>& volumes);

}  // namespace stratus::workload

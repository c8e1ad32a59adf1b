// Whole-file reads and writes with errors that name the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "support/result.h"

namespace stratus {

Result<std::vector<uint8_t>> read_file(const std::filesystem::path& path);
// Writes through a temporary file and a rename, so readers never see a partial file.
Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);

}  // namespace stratus

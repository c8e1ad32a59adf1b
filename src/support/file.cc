#include "support/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

namespace stratus {

Result<std::vector<uint8_t>> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path.string() + ": cannot open: " + std::strerror(errno));
  // In blocks rather than a byte at a time through istreambuf_iterator
  // (a workload's start reads every member's image).
  std::vector<uint8_t> bytes;
  constexpr size_t kBlock = size_t{1} << 16;
  for (;;) {
    size_t have = bytes.size();
    bytes.resize(have + kBlock);
    in.read(reinterpret_cast<char*>(bytes.data() + have), static_cast<std::streamsize>(kBlock));
    bytes.resize(have + static_cast<size_t>(in.gcount()));
    if (!in) break;
  }
  if (in.bad()) return make_error(path.string() + ": read failed");
  return bytes;
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::random_device rd;
  auto tmp = path;
  tmp += ".tmp" + std::to_string(rd());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(tmp.string() + ": cannot create: " + std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return make_error(tmp.string() + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error(path.string() + ": rename failed");
  }
  return {};
}

}  // namespace stratus

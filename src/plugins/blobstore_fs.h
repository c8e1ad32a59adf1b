// wasi:blobstore's filesystem backend: a root folder (a workload's volume),
// a folder per container, a file per object. Names may be any UTF-8 text;
// on disk, bytes other than letters, digits, '.', '_' and '-' (and a leading
// '.') are written %XX, so a name never leaves its folder. Symbolic links
// are never followed: a guest that can also write the volume through
// wasi:filesystem cannot lead the blobstore out of it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "support/result.h"

namespace stratus::plugins {

struct BlobInfo {
  std::string name;
  uint64_t created_at = 0;  // seconds since the Unix epoch
  uint64_t size = 0;
};

class FsBlobStore {
 public:
  explicit FsBlobStore(std::filesystem::path root) : root_(std::move(root)) {}

  Result<void> create_container(const std::string& container);
  Result<bool> container_exists(const std::string& container) const;
  Result<void> delete_container(const std::string& container);
  Result<BlobInfo> container_info(const std::string& container) const;
  Result<void> clear(const std::string& container);

  // The bytes from `start` to `end` inclusive (end clamped to the size).
  Result<std::vector<uint8_t>> read(const std::string& container, const std::string& object, uint64_t start,
                                    uint64_t end) const;
  // Replaces the object whole: a reader sees the old bytes or the new ones.
  Result<void> write(const std::string& container, const std::string& object, std::span<const uint8_t> data);
  Result<bool> has(const std::string& container, const std::string& object) const;
  Result<BlobInfo> info(const std::string& container, const std::string& object) const;
  Result<void> remove(const std::string& container, const std::string& object);
  Result<std::vector<std::string>> list(const std::string& container) const;  // sorted
  Result<void> copy(const std::string& from_container, const std::string& from, const std::string& to_container,
                    const std::string& to);
  Result<void> move(const std::string& from_container, const std::string& from, const std::string& to_container,
                    const std::string& to);

  // The largest object read or written at once.
  static constexpr uint64_t kMaxObject = 64ull << 20;

 private:
  Result<std::filesystem::path> container_dir(const std::string& container, bool must_exist = true) const;
  Result<std::filesystem::path> object_path(const std::string& container, const std::string& object) const;
  std::filesystem::path root_;
};

// A name as stored on disk, or an error saying why it cannot be one.
Result<std::string> encode_blob_name(const std::string& name, const char* what);
std::string decode_blob_name(const std::string& file_name);

}  // namespace stratus::plugins

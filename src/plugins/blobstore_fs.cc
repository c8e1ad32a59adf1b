#include "plugins/blobstore_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace stratus::plugins {

namespace fs = std::filesystem;

namespace {

std::string os_error(const std::string& what, int err = errno) { return what + ": " + std::strerror(err); }

bool plain(unsigned char c) { return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-'; }

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// lstat's view of `p`: regular file, folder, absent, or something else
// (a symbolic link, a device) that the blobstore never touches.
enum class Kind { File, Dir, Absent, Other };
Kind kind_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return errno == ENOENT ? Kind::Absent : Kind::Other;
  if (S_ISREG(st.st_mode)) return Kind::File;
  if (S_ISDIR(st.st_mode)) return Kind::Dir;
  return Kind::Other;
}

uint64_t mtime_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_mtim.tv_sec) : 0;
}

// Writes `data` to a new file beside `target`, then renames it over
// `target`.
Result<void> write_whole(const fs::path& target, std::span<const uint8_t> data) {
  std::string tmp = target.parent_path() / (".tmp-" + std::to_string(std::random_device{}()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return make_error(os_error("cannot write " + target.filename().string()));
  size_t at = 0;
  while (at < data.size()) {
    ssize_t n = ::write(fd, data.data() + at, data.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(os_error("cannot write " + target.filename().string(), err));
    }
    at += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(os_error("cannot write " + target.filename().string(), err));
  }
  return {};
}

}  // namespace

Result<std::string> encode_blob_name(const std::string& name, const char* what) {
  if (name.empty()) return make_error(std::string(what) + " name is empty");
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (plain(c) && !(i == 0 && c == '.')) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  if (out.size() > 255) return make_error(std::string(what) + " name `" + name.substr(0, 64) + "...` is too long");
  return out;
}

std::string decode_blob_name(const std::string& file_name) {
  std::string out;
  for (size_t i = 0; i < file_name.size(); ++i) {
    if (file_name[i] == '%' && i + 2 < file_name.size() && hex(file_name[i + 1]) >= 0 && hex(file_name[i + 2]) >= 0) {
      out += static_cast<char>(hex(file_name[i + 1]) * 16 + hex(file_name[i + 2]));
      i += 2;
    } else {
      out += file_name[i];
    }
  }
  return out;
}

Result<fs::path> FsBlobStore::container_dir(const std::string& container, bool must_exist) const {
  auto encoded = encode_blob_name(container, "the container");
  if (!encoded) return std::move(encoded).error();
  fs::path dir = root_ / *encoded;
  Kind k = kind_of(dir);
  if (k == Kind::Other) return make_error("container `" + container + "` is not a folder");
  if (must_exist && k != Kind::Dir) return make_error("no container `" + container + "`");
  return dir;
}

Result<fs::path> FsBlobStore::object_path(const std::string& container, const std::string& object) const {
  auto dir = container_dir(container);
  if (!dir) return std::move(dir).error();
  auto encoded = encode_blob_name(object, "the object");
  if (!encoded) return std::move(encoded).error();
  return *dir / *encoded;
}

Result<void> FsBlobStore::create_container(const std::string& container) {
  auto dir = container_dir(container, false);
  if (!dir) return std::move(dir).error();
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (::mkdir(dir->c_str(), 0755) != 0) {
    if (errno == EEXIST) return make_error("container `" + container + "` already exists");
    return make_error(os_error("cannot make container `" + container + "`"));
  }
  return {};
}

Result<bool> FsBlobStore::container_exists(const std::string& container) const {
  auto dir = container_dir(container, false);
  if (!dir) return std::move(dir).error();
  return kind_of(*dir) == Kind::Dir;
}

Result<void> FsBlobStore::delete_container(const std::string& container) {
  STRATUS_TRY(clear(container));
  auto dir = container_dir(container);
  if (!dir) return std::move(dir).error();
  if (::rmdir(dir->c_str()) != 0) return make_error(os_error("cannot delete container `" + container + "`"));
  return {};
}

Result<BlobInfo> FsBlobStore::container_info(const std::string& container) const {
  auto dir = container_dir(container);
  if (!dir) return std::move(dir).error();
  return BlobInfo{container, mtime_of(*dir), 0};
}

Result<void> FsBlobStore::clear(const std::string& container) {
  auto names = list(container);
  if (!names) return std::move(names).error();
  for (const auto& n : *names) STRATUS_TRY(remove(container, n));
  return {};
}

Result<std::vector<uint8_t>> FsBlobStore::read(const std::string& container, const std::string& object, uint64_t start,
                                               uint64_t end) const {
  if (start > end)
    return make_error("get-data: start " + std::to_string(start) + " is past end " + std::to_string(end));
  auto path = object_path(container, object);
  if (!path) return std::move(path).error();
  int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return make_error("no object `" + object + "` in container `" + container + "`");
    return make_error(os_error("cannot read `" + object + "`"));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("`" + object + "` is not an object");
  }
  auto size = static_cast<uint64_t>(st.st_size);
  std::vector<uint8_t> out;
  if (start < size) {
    uint64_t last = std::min(end, size - 1);
    if (last - start + 1 > kMaxObject) {
      ::close(fd);
      return make_error("get-data: more than " + std::to_string(kMaxObject) + " bytes at once");
    }
    out.resize(static_cast<size_t>(last - start + 1));
    size_t at = 0;
    while (at < out.size()) {
      ssize_t n = ::pread(fd, out.data() + at, out.size() - at, static_cast<off_t>(start + at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
    out.resize(at);
  }
  ::close(fd);
  return out;
}

Result<void> FsBlobStore::write(const std::string& container, const std::string& object,
                                std::span<const uint8_t> data) {
  if (data.size() > kMaxObject) return make_error("write-data: more than " + std::to_string(kMaxObject) + " bytes");
  auto path = object_path(container, object);
  if (!path) return std::move(path).error();
  if (kind_of(*path) == Kind::Other || kind_of(*path) == Kind::Dir)
    return make_error("`" + object + "` is not an object");
  return write_whole(*path, data);
}

Result<bool> FsBlobStore::has(const std::string& container, const std::string& object) const {
  auto path = object_path(container, object);
  if (!path) return std::move(path).error();
  return kind_of(*path) == Kind::File;
}

Result<BlobInfo> FsBlobStore::info(const std::string& container, const std::string& object) const {
  auto path = object_path(container, object);
  if (!path) return std::move(path).error();
  struct stat st {};
  if (::lstat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error("no object `" + object + "` in container `" + container + "`");
  return BlobInfo{object, static_cast<uint64_t>(st.st_mtim.tv_sec), static_cast<uint64_t>(st.st_size)};
}

Result<void> FsBlobStore::remove(const std::string& container, const std::string& object) {
  auto path = object_path(container, object);
  if (!path) return std::move(path).error();
  Kind k = kind_of(*path);
  if (k == Kind::Absent) return {};
  if (k != Kind::File) return make_error("`" + object + "` is not an object");
  if (::unlink(path->c_str()) != 0) return make_error(os_error("cannot delete `" + object + "`"));
  return {};
}

Result<std::vector<std::string>> FsBlobStore::list(const std::string& container) const {
  auto dir = container_dir(container);
  if (!dir) return std::move(dir).error();
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(*dir, ec)) {
    std::string file = entry.path().filename().string();
    if (file.rfind(".tmp-", 0) == 0 || kind_of(entry.path()) != Kind::File) continue;
    names.push_back(decode_blob_name(file));
  }
  if (ec) return make_error("cannot list container `" + container + "`: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> FsBlobStore::copy(const std::string& from_container, const std::string& from,
                               const std::string& to_container, const std::string& to) {
  auto data = read(from_container, from, 0, UINT64_MAX);
  if (!data) return std::move(data).error();
  return write(to_container, to, *data);
}

Result<void> FsBlobStore::move(const std::string& from_container, const std::string& from,
                               const std::string& to_container, const std::string& to) {
  auto src = object_path(from_container, from);
  if (!src) return std::move(src).error();
  auto dst = object_path(to_container, to);
  if (!dst) return std::move(dst).error();
  if (kind_of(*src) != Kind::File) return make_error("no object `" + from + "` in container `" + from_container + "`");
  if (kind_of(*dst) == Kind::Other || kind_of(*dst) == Kind::Dir) return make_error("`" + to + "` is not an object");
  if (::rename(src->c_str(), dst->c_str()) != 0) return make_error(os_error("cannot move `" + from + "`"));
  return {};
}

}  // namespace stratus::plugins

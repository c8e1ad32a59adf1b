// What a descriptor's rights allow, and the operations that make
// descriptors and read directories (p2/filesystem.h), for WASI 0.2 and 0.3.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/utf8.h"
#include "wasi/p2/filesystem.h"

namespace stratus::wasi::p2 {
namespace {

std::string join(const std::string& dir, const std::string& path) {
  if (dir.empty() || dir.back() == '/') return dir + path;
  return dir + "/" + path;
}

mode_t entry_type(int dirfd, const dirent& e) {
  switch (e.d_type) {
    case DT_BLK: return S_IFBLK;
    case DT_CHR: return S_IFCHR;
    case DT_DIR: return S_IFDIR;
    case DT_FIFO: return S_IFIFO;
    case DT_LNK: return S_IFLNK;
    case DT_REG: return S_IFREG;
    case DT_SOCK: return S_IFSOCK;
    default: break;
  }
  // A name read from this directory is one component: it cannot leave it.
  struct stat st {};
  if (::fstatat(dirfd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  return st.st_mode & S_IFMT;
}

}  // namespace

int check_directory(const Descriptor& d, bool mutates) {
  if (!d.is_directory) return ENOTDIR;
  if (mutates && !d.mutate_directory) return EROFS;
  return 0;
}

int check_file(const Descriptor& d, bool allowed) {
  if (d.is_directory) return EISDIR;
  if (!allowed) return EBADF;
  return 0;
}

OrErrno<std::shared_ptr<Descriptor>> open_descriptor_at(const Descriptor& dir, const std::string& path,
                                                        const DescriptorOpen& open) {
  if (int err = check_directory(dir, false)) return {nullptr, err};
  const OpenRequest& r = open.request;
  bool mutates = r.write || open.mutate_directory || r.create || r.truncate;
  if (mutates && !dir.mutate_directory) return {nullptr, EROFS};
  auto opened = open_at(dir.fd->get(), path, r);
  if (!opened.ok()) return {nullptr, opened.error};

  auto out = std::make_shared<Descriptor>();
  out->fd = std::move(opened.value.fd);
  out->is_directory = S_ISDIR(opened.value.st.st_mode);
  if (out->is_directory) {
    // The adapter from preview 1 never asks for mutate-directory: a
    // directory may do below it what its parent may.
    out->read = true;
    out->mutate_directory = dir.mutate_directory;
    out->asked_mutate_directory = dir.mutate_directory && open.mutate_directory;
  } else {
    out->may_set_times = dir.mutate_directory;
    out->read = r.read;
    out->write = r.write;
    out->file_integrity_sync = r.sync;
    out->data_integrity_sync = r.dsync;
    out->requested_write_sync = r.rsync;
  }
  out->guest_path = join(dir.guest_path, path);
  return {std::move(out), 0};
}

OrErrno<std::shared_ptr<DirectoryEntryStream>> open_directory_entries(const Descriptor& d) {
  if (int err = check_directory(d, false)) return {nullptr, err};
  // A descriptor of its own, so each stream starts at the beginning and
  // streams do not move each other's position.
  int fd = ::openat(d.fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return {nullptr, errno};
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return {nullptr, err};
  }
  auto stream = std::make_shared<DirectoryEntryStream>();
  stream->dir.reset(dir);
  return {std::move(stream), 0};
}

OrErrno<std::optional<DirectoryEntryInfo>> next_directory_entry(DirectoryEntryStream& s) {
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(s.dir.get());
    if (e == nullptr) return {std::nullopt, errno};
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!valid_utf8(name)) return {std::nullopt, EILSEQ};
    return {DirectoryEntryInfo{entry_type(::dirfd(s.dir.get()), *e), std::move(name)}, 0};
  }
}

bool valid_utf8(const std::string& s) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (!next_utf8(bytes, s.size(), i)) return false;
  }
  return true;
}

Result<std::vector<OpenPreopen>> open_preopens(const std::vector<Preopen>& dirs) {
  std::vector<OpenPreopen> out;
  for (const auto& p : dirs) {
    int fd = ::open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return make_error("preopened directory '" + p.host_path + "' (guest path '" + p.guest_path +
                        "'): " + std::strerror(errno));
    out.push_back({std::make_shared<OwnedFd>(fd), p});
  }
  return out;
}

std::shared_ptr<Descriptor> preopen_descriptor(const OpenPreopen& dir) {
  auto d = std::make_shared<Descriptor>();
  d->fd = dir.fd;
  d->is_directory = true;
  d->read = true;
  d->mutate_directory = !dir.preopen.read_only;
  d->asked_mutate_directory = d->mutate_directory;
  d->guest_path = dir.preopen.guest_path;
  return d;
}

}  // namespace stratus::wasi::p2

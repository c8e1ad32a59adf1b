// A WASI preview 1 guest for the wasi:filesystem tests (adapted into a
// component): its first argument picks what it exercises, and it prints one
// line per operation, "<what> ok" or "<what> <errno name>", so the test can
// check what the host allowed. Paths go to the host as written: the *at
// calls on the preopen's descriptor skip wasi-libc's own path handling.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static const char* errname(int e) {
  switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EROFS: return "EROFS";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case ENOTSUP: return "ENOTSUP";
    default: {
      static char other[32];
      snprintf(other, sizeof other, "errno%d", e);
      return other;
    }
  }
}

static void report_errno(const char* what, int err) { printf("%s %s\n", what, errname(err)); }

// Prints "<what> ok" when rc is 0 (or a descriptor), else the errno.
static int report(const char* what, int rc) {
  printf("%s %s\n", what, errname(rc < 0 ? errno : 0));
  return rc;
}

// The preopen the host gave at `want`, or -1; *count gets how many there are.
static int find_preopen(const char* want, int* count) {
  int found = -1;
  *count = 0;
  for (int fd = 3;; ++fd) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
    ++*count;
    char name[256];
    size_t len = ps.u.dir.pr_name_len;
    if (len >= sizeof name) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t*)name, len) != 0) continue;
    name[len] = 0;
    if (strcmp(name, want) == 0) found = fd;
  }
  return found;
}

// Prints the first bytes of `path` under `dir` as "<what> [text]", or the
// errno.
static void show_file(const char* what, int dir, const char* path) {
  int fd = openat(dir, path, O_RDONLY);
  if (fd < 0) {
    report(what, -1);
    return;
  }
  char buf[128];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) {
    report(what, -1);
    return;
  }
  buf[n] = 0;
  printf("%s [%s]\n", what, buf);
}

static int write_file(int dir, const char* path, const char* text, int flags) {
  int fd = openat(dir, path, O_WRONLY | flags, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static const char* type_name(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "link";
  return "other";
}

static int compare_names(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

// The entries of `path` under `dir`, sorted, as "ls <path>: name/type ...".
static void list(int dir, const char* path) {
  int fd = openat(dir, path, O_RDONLY | O_DIRECTORY);
  DIR* d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    printf("ls %s %s\n", path, errname(errno));
    return;
  }
  char* names[64];
  int count = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && count < 64) {
    const char* t = e->d_type == DT_DIR ? "dir" : e->d_type == DT_REG ? "file" : e->d_type == DT_LNK ? "link" : "?";
    char* entry = malloc(strlen(e->d_name) + 8);
    sprintf(entry, "%s/%s", e->d_name, t);
    names[count++] = entry;
  }
  closedir(d);
  qsort(names, (size_t)count, sizeof names[0], compare_names);
  printf("ls %s:", path);
  for (int i = 0; i < count; ++i) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static void stat_line(const char* what, int dir, const char* path, int flags) {
  struct stat st;
  if (fstatat(dir, path, &st, flags) != 0) {
    report(what, -1);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    printf("%s dir\n", what);  // a directory's size depends on the filesystem
  } else {
    printf("%s %s size=%lld\n", what, type_name(st.st_mode), (long long)st.st_size);
  }
}

// Everything a program normally does with files, inside the preopen.
static int basic(int root) {
  report("create hello.txt", write_file(root, "hello.txt", "hello", O_CREAT | O_TRUNC));
  show_file("read hello.txt", root, "hello.txt");
  report("append", write_file(root, "hello.txt", " world", O_APPEND));
  show_file("read hello.txt", root, "hello.txt");

  int fd = openat(root, "hello.txt", O_RDWR);
  report("open rw", fd);
  report("pwrite", pwrite(fd, "W", 1, 6) == 1 ? 0 : -1);
  char buf[16] = {0};
  ssize_t n = pread(fd, buf, 5, 6);
  printf("pread %zd [%s]\n", n, buf);
  report("ftruncate", ftruncate(fd, 5));
  struct stat st;
  report("fstat", fstat(fd, &st));
  printf("fstat %s size=%lld\n", type_name(st.st_mode), (long long)st.st_size);
  close(fd);
  show_file("read hello.txt", root, "hello.txt");
  stat_line("stat hello.txt", root, "hello.txt", 0);
  stat_line("stat sub", root, "sub", 0);

  report("mkdir newdir", mkdirat(root, "newdir", 0755));
  report("mkdir newdir/deeper/", mkdirat(root, "newdir/deeper/", 0755));
  stat_line("stat newdir/deeper", root, "newdir/deeper", 0);
  list(root, ".");
  list(root, "sub");

  report("rename hello.txt sub/moved.txt", renameat(root, "hello.txt", root, "sub/moved.txt"));
  stat_line("stat hello.txt", root, "hello.txt", 0);
  show_file("read sub/moved.txt", root, "sub/moved.txt");
  report("link sub/moved.txt hard.txt", linkat(root, "sub/moved.txt", root, "hard.txt", 0));
  show_file("read hard.txt", root, "hard.txt");
  report("unlink hard.txt", unlinkat(root, "hard.txt", 0));
  report("unlink sub/moved.txt", unlinkat(root, "sub/moved.txt", 0));
  report("unlink newdir", unlinkat(root, "newdir", 0));
  report("rmdir newdir", unlinkat(root, "newdir", AT_REMOVEDIR));
  report("rmdir newdir/deeper", unlinkat(root, "newdir/deeper", AT_REMOVEDIR));
  report("rmdir newdir/", unlinkat(root, "newdir/", AT_REMOVEDIR));
  stat_line("stat newdir", root, "newdir", 0);

  report("symlink data.txt mylink", symlinkat("data.txt", root, "mylink"));
  char target[64] = {0};
  n = readlinkat(root, "mylink", target, sizeof target - 1);
  printf("readlink mylink %s [%s]\n", errname(n < 0 ? errno : 0), n < 0 ? "" : target);
  stat_line("lstat mylink", root, "mylink", AT_SYMLINK_NOFOLLOW);
  stat_line("stat mylink", root, "mylink", 0);
  show_file("read mylink", root, "mylink");
  show_file("read link_in", root, "link_in");
  show_file("read sub/../data.txt", root, "sub/../data.txt");

  struct timespec times[2] = {{1000000000, 0}, {1000000000, 500}};
  report("utimensat data.txt", utimensat(root, "data.txt", times, 0));
  report("fstatat data.txt", fstatat(root, "data.txt", &st, 0));
  printf("mtime %lld %ld\n", (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
  fd = openat(root, "data.txt", O_RDWR);
  struct timespec later[2] = {{1100000000, 0}, {1200000000, 0}};
  report("futimens", futimens(fd, later));
  report("fstat", fstat(fd, &st));
  printf("times %lld %lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
  close(fd);
  return 0;
}

// Calls straight into preview 1, which the adapter passes on as they are:
// wasi-libc's own *at functions resolve an absolute path against the
// preopens themselves and never send it to the host.
static void raw_calls(int root, const char* base) {
  char outside[512], made[512];
  snprintf(outside, sizeof outside, "%s/outside.txt", base);
  snprintf(made, sizeof made, "%s/made", base);
  __wasi_fd_t fd;
  __wasi_filestat_t st;
  report_errno("raw open /etc/passwd", __wasi_path_open(root, 0, "/etc/passwd", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
  report_errno("raw open <base>/outside.txt", __wasi_path_open(root, 0, outside, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
  report_errno("raw stat <base>/outside.txt",
               __wasi_path_filestat_get(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, outside, &st));
  report_errno("raw create <base>/made",
               __wasi_path_open(root, 0, made, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd));
  report_errno("raw mkdir <base>/made", __wasi_path_create_directory(root, made));
  report_errno("raw unlink <base>/outside.txt", __wasi_path_unlink_file(root, outside));
  report_errno("raw symlink x <base>/made", __wasi_path_symlink("x", root, made));
  report_errno("raw open /", __wasi_path_open(root, 0, "/", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
}

// Every way out of the preopen must fail; each line is one attempt.
static int escape(int root, const char* base) {
  raw_calls(root, base);
  report("open ../outside.txt", openat(root, "../outside.txt", O_RDONLY));
  report("open /etc/passwd", openat(root, "/etc/passwd", O_RDONLY));
  report("open sub/../../outside.txt", openat(root, "sub/../../outside.txt", O_RDONLY));
  report("open ..", openat(root, "..", O_RDONLY | O_DIRECTORY));
  report("open sub/../..", openat(root, "sub/../..", O_RDONLY | O_DIRECTORY));
  report("open link_abs", openat(root, "link_abs", O_RDONLY));
  report("open link_rel", openat(root, "link_rel", O_RDONLY));
  report("open up/outside.txt", openat(root, "up/outside.txt", O_RDONLY));
  report("open link_rel for writing", openat(root, "link_rel", O_WRONLY | O_TRUNC));
  report("create through link_new", openat(root, "link_new", O_WRONLY | O_CREAT, 0644));
  report("create up/created.txt", openat(root, "up/created.txt", O_WRONLY | O_CREAT, 0644));
  struct stat st;
  report("stat ../outside.txt", fstatat(root, "../outside.txt", &st, 0));
  report("stat link_abs", fstatat(root, "link_abs", &st, 0));
  report("stat link_rel", fstatat(root, "link_rel", &st, 0));
  report("stat /etc/passwd", fstatat(root, "/etc/passwd", &st, 0));
  report("lstat link_abs", fstatat(root, "link_abs", &st, AT_SYMLINK_NOFOLLOW));
  report("mkdir ..", mkdirat(root, "..", 0755));
  report("mkdir ../newdir", mkdirat(root, "../newdir", 0755));
  report("mkdir up/newdir", mkdirat(root, "up/newdir", 0755));
  report("rename data.txt ../stolen.txt", renameat(root, "data.txt", root, "../stolen.txt"));
  report("rename ../outside.txt got.txt", renameat(root, "../outside.txt", root, "got.txt"));
  report("rename link_abs/ x", renameat(root, "link_abs/", root, "x"));
  report("link ../outside.txt got.txt", linkat(root, "../outside.txt", root, "got.txt", 0));
  report("link data.txt ../linked.txt", linkat(root, "data.txt", root, "../linked.txt", 0));
  report("link following link_rel", linkat(root, "link_rel", root, "got.txt", AT_SYMLINK_FOLLOW));
  report("unlink ../outside.txt", unlinkat(root, "../outside.txt", 0));
  report("unlink up/outside.txt", unlinkat(root, "up/outside.txt", 0));
  report("rmdir ..", unlinkat(root, "..", AT_REMOVEDIR));
  report("symlink /etc/passwd abs", symlinkat("/etc/passwd", root, "abs"));
  report("symlink x ../made", symlinkat("x", root, "../made"));
  struct timespec times[2] = {{1, 0}, {1, 0}};
  report("utimes ../outside.txt", utimensat(root, "../outside.txt", times, 0));
  report("utimes link_rel", utimensat(root, "link_rel", times, 0));
  char target[64];
  report("readlink link_abs", (int)readlinkat(root, "link_abs", target, sizeof target));
  ssize_t n = readlinkat(root, "link_rel", target, sizeof target - 1);
  printf("readlink link_rel %s [%.*s]\n", errname(n < 0 ? errno : 0), n < 0 ? 0 : (int)n, target);
  report("readlink ../x", (int)readlinkat(root, "../x", target, sizeof target));
  return 0;
}

// Under a read-only preopen: reads work, nothing changes.
static int readonly(int root) {
  show_file("read data.txt", root, "data.txt");
  list(root, ".");
  stat_line("stat data.txt", root, "data.txt", 0);
  report("open data.txt O_WRONLY", openat(root, "data.txt", O_WRONLY));
  report("open data.txt O_RDWR", openat(root, "data.txt", O_RDWR));
  report("open data.txt O_TRUNC", openat(root, "data.txt", O_RDONLY | O_TRUNC));
  report("create new.txt", openat(root, "new.txt", O_WRONLY | O_CREAT, 0644));
  report("mkdir newdir", mkdirat(root, "newdir", 0755));
  report("unlink data.txt", unlinkat(root, "data.txt", 0));
  report("rmdir sub", unlinkat(root, "sub", AT_REMOVEDIR));
  report("rename data.txt renamed.txt", renameat(root, "data.txt", root, "renamed.txt"));
  report("link data.txt hard.txt", linkat(root, "data.txt", root, "hard.txt", 0));
  report("symlink data.txt s", symlinkat("data.txt", root, "s"));
  struct timespec times[2] = {{1, 0}, {1, 0}};
  report("utimes data.txt", utimensat(root, "data.txt", times, 0));
  int fd = openat(root, "data.txt", O_RDONLY);
  report("open data.txt O_RDONLY", fd);
  report("write", write(fd, "x", 1) == 1 ? 0 : -1);
  report("pwrite", pwrite(fd, "x", 1, 0) == 1 ? 0 : -1);
  report("ftruncate", ftruncate(fd, 0));
  report("futimens", futimens(fd, times));
  close(fd);
  int sub = openat(root, "sub", O_RDONLY | O_DIRECTORY);
  report("open sub", sub);
  report("create sub/new.txt", openat(sub, "new.txt", O_WRONLY | O_CREAT, 0644));
  report("unlink sub/inner.txt", unlinkat(sub, "inner.txt", 0));
  show_file("read sub/inner.txt", sub, "inner.txt");
  close(sub);
  show_file("read data.txt", root, "data.txt");
  return 0;
}

// No preopen at all: there is nothing to open.
static int nothing(void) {
  int count = 0;
  find_preopen("/sandbox", &count);
  printf("preopens %d\n", count);
  report("open /sandbox/data.txt", open("/sandbox/data.txt", O_RDONLY));
  report("open data.txt", open("data.txt", O_RDONLY));
  report("open /", open("/", O_RDONLY | O_DIRECTORY));
  report("open fd 3", openat(3, "data.txt", O_RDONLY));
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "none") == 0) return nothing();
  int count = 0;
  int root = find_preopen("/sandbox", &count);
  if (root < 0) {
    printf("no preopen /sandbox (%d preopens)\n", count);
    return 1;
  }
  if (strcmp(mode, "basic") == 0) return basic(root);
  if (strcmp(mode, "escape") == 0) return escape(root, argc > 2 ? argv[2] : "/nonexistent");
  if (strcmp(mode, "readonly") == 0) return readonly(root);
  fprintf(stderr, "fs: unknown mode '%s'\n", mode);
  return 2;
}

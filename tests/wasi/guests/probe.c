// A WASI preview 1 guest for the tests: its first argument picks what it
// exercises, and it prints what it saw so the test can check it.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

extern char** environ;

static int print_args_and_env(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) printf("arg %s\n", argv[i]);
  for (char** e = environ; *e; ++e) printf("env %s\n", *e);
  return 0;
}

// Bad pointers must come back as EFAULT (21) and leave the host standing.
static int bad_pointers(void) {
  size_t n = 0;
  __wasi_ciovec_t far_iov = {(const uint8_t*)0xfffffff0u, 64};
  int out_of_memory_iovs = __wasi_fd_write(1, (const __wasi_ciovec_t*)0xfffffff0u, 1, &n);
  int out_of_memory_buf = __wasi_fd_write(1, &far_iov, 1, &n);
  int bad_result_ptr = __wasi_fd_write(1, &far_iov, 0, (size_t*)0xfffffffcu);
  int bad_clock_ptr = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, (__wasi_timestamp_t*)0xfffffff9u);
  int bad_random = __wasi_random_get((uint8_t*)0xffffff00u, 4096);
  int bad_args = __wasi_args_sizes_get((size_t*)0xfffffffeu, &n);
  printf("efault %d %d %d %d %d %d\n", out_of_memory_iovs, out_of_memory_buf, bad_result_ptr, bad_clock_ptr, bad_random,
         bad_args);
  return 0;
}

static int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int clocks(void) {
  int64_t wall = now_ns(CLOCK_REALTIME);
  int64_t start = now_ns(CLOCK_MONOTONIC);
  struct timespec sleep_for = {0, 20 * 1000 * 1000};
  nanosleep(&sleep_for, NULL);  // poll_oneoff with a relative clock subscription
  int64_t slept = now_ns(CLOCK_MONOTONIC) - start;
  int64_t cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
  struct timespec res;
  int res_ok = clock_getres(CLOCK_MONOTONIC, &res) == 0 && (res.tv_sec > 0 || res.tv_nsec > 0);
  // After 2020-01-01 (1577836800 s), and the sleep took at least 20 ms.
  printf("clock realtime_ok=%d slept_ok=%d cpu_ok=%d res_ok=%d\n", wall > 1577836800LL * 1000000000LL,
         slept >= 20 * 1000 * 1000, cpu >= 0, res_ok);
  return 0;
}

static int randomness(void) {
  uint8_t a[64] = {0}, b[64] = {0};
  if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
    printf("random failed\n");
    return 1;
  }
  int nonzero = 0;
  for (size_t i = 0; i < sizeof a; ++i) nonzero |= a[i];
  printf("random nonzero=%d differ=%d\n", nonzero != 0, memcmp(a, b, sizeof a) != 0);
  return 0;
}

static int echo_stdin(void) {
  char buf[256];
  size_t total = fread(buf, 1, sizeof buf - 1, stdin);
  buf[total] = 0;
  printf("stdin %zu [%s]\n", total, buf);
  return 0;
}

// What opening `path` read-only gives: "ok" or the error's text.
static const char* open_result(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return strerror(errno);
  close(fd);
  return "ok";
}

// A raw path_open beneath the first preopen (fd 3), bypassing wasi-libc's
// own path handling, so the host sees the path exactly as given.
static int raw_open(const char* path) {
  __wasi_fd_t fd = 0;
  __wasi_errno_t err =
      __wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  if (err == 0) (void)__wasi_fd_close(fd);
  return err;
}

// Files beneath the preopens /sandbox (writable) and /ro (read-only): the
// test made /sandbox/up -> .. and /sandbox/abs -> an absolute host path,
// and a file `secret` beside the sandbox that must stay out of reach.
static int files(void) {
  FILE* f = fopen("/sandbox/a.txt", "w");
  if (f == NULL) return 10;
  fputs("hello", f);
  fclose(f);
  f = fopen("/sandbox/a.txt", "a");
  fputs(" world", f);
  fclose(f);
  char buf[64] = {0};
  f = fopen("/sandbox/a.txt", "r");
  fseek(f, 6, SEEK_SET);
  printf("read [%s]\n", fgets(buf, sizeof buf, f));
  fclose(f);
  if (mkdir("/sandbox/d", 0755) != 0) return 11;
  if (rename("/sandbox/a.txt", "/sandbox/d/b.txt") != 0) return 12;
  struct stat st;
  if (stat("/sandbox/d/b.txt", &st) != 0) return 13;
  printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  DIR* d = opendir("/sandbox/d");
  int entries = 0;
  for (struct dirent* e; (e = readdir(d)) != NULL;) entries += strcmp(e->d_name, "b.txt") == 0 ? 100 : 1;
  closedir(d);
  printf("entries %d\n", entries);  // ".", ".." and b.txt

  printf("up %s\n", open_result("/sandbox/up/secret"));
  printf("abs %s\n", open_result("/sandbox/abs"));
  printf("raw dotdot %d\n", raw_open("../secret"));
  printf("raw absolute %d\n", raw_open("/etc/passwd"));
  printf("raw up %d\n", raw_open("d/../../secret"));

  printf("ro read %s\n", open_result("/ro/r.txt"));
  errno = 0;
  printf("ro create %s\n", fopen("/ro/new.txt", "w") == NULL ? strerror(errno) : "ok");
  errno = 0;
  printf("ro unlink %s\n", unlink("/ro/r.txt") != 0 ? strerror(errno) : "ok");
  return 0;
}

// Loops until stopped from outside (--timeout).
static int spin(void) {
  volatile uint64_t n = 0;
  for (;;) n = n + 1;
  return 0;
}

// Allocates MiB megabytes a MiB at a time, touching each; exits 3 when an
// allocation fails (memory.grow refused), after saying how far it got.
static char* grown[4096];
static int grow(int mib) {
  if (mib < 0 || mib > 4096) mib = 4096;
  unsigned sum = 0;
  for (int i = 0; i < mib; ++i) {
    grown[i] = malloc(1 << 20);
    if (grown[i] == NULL) {
      fprintf(stderr, "probe: out of memory after %d MiB\n", i);
      return 3;
    }
    memset(grown[i], i + 1, 1 << 20);
  }
  // Read every block back, so that the compiler keeps them.
  for (int i = 0; i < mib; ++i) sum += (unsigned char)grown[i][(i * 4099) & ((1 << 20) - 1)];
  printf("grew %d MiB (%u)\n", mib, sum);
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "env") == 0) return print_args_and_env(argc, argv);
  if (strcmp(mode, "exit") == 0) exit(argc > 2 ? atoi(argv[2]) : 0);
  if (strcmp(mode, "efault") == 0) return bad_pointers();
  if (strcmp(mode, "clock") == 0) return clocks();
  if (strcmp(mode, "random") == 0) return randomness();
  if (strcmp(mode, "stdin") == 0) return echo_stdin();
  if (strcmp(mode, "files") == 0) return files();
  if (strcmp(mode, "stderr") == 0) {
    fprintf(stderr, "to stderr\n");
    return 0;
  }
  if (strcmp(mode, "trap") == 0) __builtin_trap();
  if (strcmp(mode, "spin") == 0) return spin();
  if (strcmp(mode, "grow") == 0) return grow(argc > 2 ? atoi(argv[2]) : 1);
  fprintf(stderr, "probe: unknown mode '%s'\n", mode);
  return 2;
}

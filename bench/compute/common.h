// Shared by the compute programs: argument parsing and a checksum line, so the
// driver can check that native, aot, interp and node computed the same thing.
#ifndef STRATUS_BENCH_COMPUTE_COMMON_H
#define STRATUS_BENCH_COMPUTE_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// The work is proportional to this count (its first argument), so a run at a
// reduced count scales linearly back to the full one.
static inline long bench_iterations(int argc, char** argv, long fallback) {
  if (argc < 2) return fallback;
  long n = strtol(argv[1], NULL, 10);
  return n > 0 ? n : fallback;
}

// xorshift64*: a deterministic stream identical on every platform.
static inline uint64_t bench_next(uint64_t* state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

#endif

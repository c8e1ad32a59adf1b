// FNV-1a and a 64-bit multiply-rotate hash (xxhash-like) over a 64 KiB buffer,
// N times with the buffer perturbed each round.
#include <string.h>

#include "common.h"

enum { kBufferSize = 64 * 1024 };

static uint32_t fnv1a(const uint8_t* p, size_t n, uint32_t h) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t mix64(const uint8_t* p, size_t n, uint64_t seed) {
  const uint64_t k1 = 0x9E3779B185EBCA87ULL, k2 = 0xC2B2AE3D27D4EB4FULL;
  uint64_t a = seed + k1, b = seed ^ k2, c = seed, d = seed - k1;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    memcpy(w, p + i, sizeof w);
    a = rotl(a + w[0] * k2, 31) * k1;
    b = rotl(b + w[1] * k2, 31) * k1;
    c = rotl(c + w[2] * k2, 31) * k1;
    d = rotl(d + w[3] * k2, 31) * k1;
  }
  uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18);
  for (; i < n; ++i) h = rotl(h ^ (p[i] * k1), 11) * k2;
  h ^= h >> 33;
  h *= k2;
  h ^= h >> 29;
  return h;
}

int main(int argc, char** argv) {
  long rounds = bench_iterations(argc, argv, 1000);
  static uint8_t buf[kBufferSize];
  uint64_t rng = 42;
  for (size_t i = 0; i < kBufferSize; ++i) buf[i] = (uint8_t)bench_next(&rng);
  uint32_t f = 2166136261u;
  uint64_t m = 0;
  for (long r = 0; r < rounds; ++r) {
    f = fnv1a(buf, kBufferSize, f);
    m ^= mix64(buf, kBufferSize, m + (uint64_t)r);
    buf[r % kBufferSize] ^= (uint8_t)f;
  }
  printf("hash %ld rounds: fnv=%08x mix=%016llx\n", rounds, f, (unsigned long long)m);
  return 0;
}

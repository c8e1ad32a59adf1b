// Sorts 100k pseudo-random u32 N times: a quicksort (median of three,
// insertion sort for small ranges) alternating with a bottom-up merge sort.
#include <string.h>

#include "common.h"

enum { kCount = 100000 };

static uint32_t data[kCount], scratch[kCount];

static void insertion_sort(uint32_t* a, long lo, long hi) {
  for (long i = lo + 1; i <= hi; ++i) {
    uint32_t v = a[i];
    long j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      --j;
    }
    a[j + 1] = v;
  }
}

static void quicksort(uint32_t* a, long lo, long hi) {
  while (hi - lo > 16) {
    long mid = lo + (hi - lo) / 2;
    uint32_t x = a[lo], y = a[mid], z = a[hi];
    uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) ++i;
      while (a[j] > pivot) --j;
      if (i <= j) {
        uint32_t t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    // Recurse into the smaller half so the stack stays O(log n).
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  insertion_sort(a, lo, hi);
}

static void merge_sort(uint32_t* a, uint32_t* tmp, long n) {
  for (long width = 1; width < n; width *= 2) {
    for (long lo = 0; lo < n; lo += 2 * width) {
      long mid = lo + width < n ? lo + width : n;
      long hi = lo + 2 * width < n ? lo + 2 * width : n;
      long i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    memcpy(a, tmp, (size_t)n * sizeof *a);
  }
}

int main(int argc, char** argv) {
  long rounds = bench_iterations(argc, argv, 40);
  uint64_t rng = 7, check = 0;
  for (long r = 0; r < rounds; ++r) {
    for (long i = 0; i < kCount; ++i) data[i] = (uint32_t)bench_next(&rng);
    if (r % 2 == 0)
      quicksort(data, 0, kCount - 1);
    else
      merge_sort(data, scratch, kCount);
    for (long i = 1; i < kCount; ++i) {
      if (data[i - 1] > data[i]) {
        printf("sort: not sorted at %ld\n", i);
        return 1;
      }
    }
    check = check * 31 + data[kCount / 2] + data[kCount - 1];
  }
  printf("sort %ld rounds: %016llx\n", rounds, (unsigned long long)check);
  return 0;
}

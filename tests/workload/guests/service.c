/* A workload's service for the runtime tests: counts its runs in the
 * host_path volume at /data, fails (exit 1) until it has run
 * RUNS_BEFORE_SUCCESS times, and reports what it could do with its other
 * mounts: /scratch (an empty_dir, writable) and /ro (read-only). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char* need = getenv("RUNS_BEFORE_SUCCESS");
  int want = need != NULL ? atoi(need) : 1;
  int runs = 0;
  FILE* f = fopen("/data/runs", "r");
  if (f != NULL) {
    if (fscanf(f, "%d", &runs) != 1) runs = 0;
    fclose(f);
  }
  runs++;
  f = fopen("/data/runs", "w");
  if (f == NULL) return 3;
  fprintf(f, "%d", runs);
  fclose(f);

  FILE* scratch = fopen("/scratch/x", "w");
  FILE* ro_write = fopen("/ro/x", "w");
  FILE* ro_read = fopen("/ro/hello.txt", "r");
  f = fopen("/data/report.txt", "w");
  if (f == NULL) return 3;
  fprintf(f, "runs=%d scratch=%s ro-write=%s ro-read=%s\n", runs, scratch != NULL ? "ok" : "denied",
          ro_write != NULL ? "ok" : "denied", ro_read != NULL ? "ok" : "denied");
  fclose(f);
  if (scratch != NULL) fclose(scratch);
  if (ro_write != NULL) fclose(ro_write);
  if (ro_read != NULL) fclose(ro_read);
  return runs < want ? 1 : 0;
}

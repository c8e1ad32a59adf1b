# Shared by the wrk benchmarks (bench/http, bench/workload), sourced: servers
# in process groups of their own, stopped on exit; waiting for a server;
# wrk's figures. Set `connections` and `url_path` before using them.
pids=()
# Each server runs in a process group of its own (setsid), and the whole group
# is stopped: `jco serve` leaves a node child that outlives its parent, and
# a leftover one spinning would skew every later run.
cleanup() {
  for p in "${pids[@]}"; do
    kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

wait_up() {  # PORT
  for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$1$url_path" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "bench: server on port $1 did not come up" >&2
  return 1
}

# wrk's requests/s and p99 latency (ms), as "RPS P99"; more arguments go to
# wrk (-s SCRIPT: a POST).
wrk_figures() {  # PORT SECONDS [WRK ARGS...]
  local out rps p99
  out=$(wrk -t2 -c"$connections" -d"$2s" --latency "${@:3}" "http://127.0.0.1:$1$url_path")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: non-2xx answers on port $1:" >&2; echo "$out" >&2; fi
  echo "$rps $p99"
}

# The machine-readable line of one figure (bench/bench_line.h has the
# format), its ratio VALUE / BASE_VALUE (0 when the base is 0); GOAL is on
# the ratio ("<=1.3", ">=0.5"), or "" for none.
bench_line() {  # NAME VALUE UNIT BASELINE BASE_VALUE GOAL
  awk -v n="$1" -v v="$2" -v u="$3" -v b="$4" -v bv="$5" -v g="${6:-none}" 'BEGIN {
    printf "BENCH name=%s value=%.6g unit=%s ratio=%.4g baseline=%s base_value=%.6g goal=%s\n",
      n, v, u, (bv > 0 ? v / bv : 0), b, bv, (g == "" ? "none" : g) }'
}

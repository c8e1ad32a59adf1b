#!/usr/bin/env bash
# bench/http: hello-world requests/s and p99 latency with wrk on loopback,
# in one run, for `stratus serve` (aot), a native Beast server (the ceiling)
# and `jco serve` of the same component (the peer), and `stratus serve` of the
# WASI 0.3 example (examples/http-p3: an async C++ handler streaming its
# body); `stratus serve --metrics-addr` against the same without, in
# turns (off, on, off, on) so drift on a shared machine hits both, and
# `stratus serve --otlp-endpoint` (a server and an invocation span per
# request, the metrics every
# minute, to a sink answering 200) against it the same way; and,
# when `wasmtime` is on the PATH (./x peers installs it), `wasmtime serve`
# of the same proxy component, a second peer. Prints the figures and the ratios.
# Usage: run.sh STRATUS NATIVE_HELLO JCO COMPONENT CACHE_DIR P3_COMPONENT
set -euo pipefail
stratus=$1 native=$2 jco=$3 component=$4 cache=$5 p3_component=$6
duration=${BENCH_HTTP_SECONDS:-10}
connections=${BENCH_HTTP_CONNECTIONS:-32}
url_path="/hello?name=stratus"
# shellcheck source=../wrk.sh
source "$(dirname "$0")/../wrk.sh"

# Eight ports from a range picked by PID (no two runs at once on one machine).
base_port=$((20000 + ($$ % 5000) * 8))
# wrk's requests/s and p99 latency (ms) of a warm-up run, then of the
# measured run, as "COLD_RPS COLD_P99 RPS P99". The warm-up starts on a
# fresh server: stratus makes its instance pool's workers as connections
# first need them, node's JIT warms up; both runs are printed.
warmup=${BENCH_HTTP_WARMUP_SECONDS:-2}
measure() {  # PORT
  echo "$(wrk_figures "$1" "$warmup") $(wrk_figures "$1" "$duration")"
}

port=$base_port
setsid "$native" "$port" >/dev/null & pids+=($!)
wait_up "$port"
read -r native_cold_rps native_cold_p99 native_rps native_p99 < <(measure "$port")

port=$((base_port + 1))
setsid "$stratus" serve --engine aot --cache-dir "$cache" --addr "127.0.0.1:$port" "$component" >/dev/null 2>&1 & pids+=($!)
wait_up "$port"
read -r stratus_cold_rps stratus_cold_p99 stratus_rps stratus_p99 < <(measure "$port")

# Metrics on (--metrics-addr, scraped by nobody: the request path's cost)
# against off, the off server being the one just measured, warm.
off_port=$port
port=$((base_port + 4))
setsid "$stratus" serve --engine aot --cache-dir "$cache" --addr "127.0.0.1:$port" --metrics-addr 127.0.0.1:0 \
  "$component" >/dev/null 2>&1 & pids+=($!)
wait_up "$port"
read -r _ _ metrics_rps1 metrics_p99_1 < <(measure "$port")
read -r off_rps2 off_p99_2 < <(wrk_figures "$off_port" "$duration")
read -r metrics_rps2 metrics_p99_2 < <(wrk_figures "$port" "$duration")
off_rps=$(awk -v a="$stratus_rps" -v b="$off_rps2" 'BEGIN { print (a + b) / 2 }')
off_p99=$(awk -v a="$stratus_p99" -v b="$off_p99_2" 'BEGIN { print (a + b) / 2 }')
metrics_rps=$(awk -v a="$metrics_rps1" -v b="$metrics_rps2" 'BEGIN { print (a + b) / 2 }')
metrics_p99=$(awk -v a="$metrics_p99_1" -v b="$metrics_p99_2" 'BEGIN { print (a + b) / 2 }')

# OTLP export on (spans and metrics to a collector that takes every POST)
# against off, in turns too; the off figure is the mean of the off turns
# around it.
sink_port=$((base_port + 6))
# The collector is the native Beast server, which reads each POST whole and
# answers 200: a collector costs this machine's 2 cores little, as one on
# another machine would. (A Python sink here took CPU from the server under
# test, and its cost was counted as stratus's.)
setsid "$native" "$sink_port" >/dev/null & pids+=($!)
port=$((base_port + 7))
setsid "$stratus" serve --engine aot --cache-dir "$cache" --addr "127.0.0.1:$port" \
  --otlp-endpoint "http://127.0.0.1:$sink_port" "$component" >/dev/null 2>&1 & pids+=($!)
wait_up "$port"
read -r _ _ otlp_rps1 otlp_p99_1 < <(measure "$port")
read -r off_rps3 off_p99_3 < <(wrk_figures "$off_port" "$duration")
read -r otlp_rps2 otlp_p99_2 < <(wrk_figures "$port" "$duration")
otlp_off_rps=$(awk -v a="$off_rps2" -v b="$off_rps3" 'BEGIN { print (a + b) / 2 }')
otlp_off_p99=$(awk -v a="$off_p99_2" -v b="$off_p99_3" 'BEGIN { print (a + b) / 2 }')
otlp_rps=$(awk -v a="$otlp_rps1" -v b="$otlp_rps2" 'BEGIN { print (a + b) / 2 }')
otlp_p99=$(awk -v a="$otlp_p99_1" -v b="$otlp_p99_2" 'BEGIN { print (a + b) / 2 }')

port=$((base_port + 2))
setsid "$jco" serve --port "$port" --host 127.0.0.1 "$component" >/dev/null 2>&1 & pids+=($!)
if wait_up "$port"; then
  read -r jco_cold_rps jco_cold_p99 jco_rps jco_p99 < <(measure "$port")
else
  jco_cold_rps=0 jco_cold_p99=0 jco_rps=0 jco_p99=0
fi

# The P3 example's greeting only (?n=0): its body one line, like /hello's.
port=$((base_port + 3))
url_path="/hello?n=0"
setsid "$stratus" serve --engine aot --cache-dir "$cache" --addr "127.0.0.1:$port" "$p3_component" >/dev/null 2>&1 &
pids+=($!)
wait_up "$port"
read -r p3_cold_rps p3_cold_p99 p3_rps p3_p99 < <(measure "$port")

# wasmtime serve of the same component (its own instance per request,
# wasmtime's default), when the peer is installed.
wasmtime_rps=""
if command -v wasmtime >/dev/null; then
  port=$((base_port + 5))
  url_path="/hello?name=stratus"
  setsid wasmtime serve -S cli --addr "127.0.0.1:$port" "$component" >/dev/null 2>&1 & pids+=($!)
  if wait_up "$port"; then
    read -r wasmtime_cold_rps wasmtime_cold_p99 wasmtime_rps wasmtime_p99 < <(measure "$port")
  else
    echo "bench/http: wasmtime serve did not come up; no wasmtime row" >&2
    wasmtime_rps=""
  fi
fi

printf 'bench/http (wrk -t2 -c%s, GET /hello on loopback): a %ss warm-up on a fresh server, then %ss measured\n' \
  "$connections" "$warmup" "$duration"
row() { printf '  %-17s %10.0f req/s   p99 %8.2f ms   (warm-up %8.0f req/s, p99 %8.2f ms)\n' "$@"; }
row "native Beast" "$native_rps" "$native_p99" "$native_cold_rps" "$native_cold_p99"
row "stratus serve aot" "$stratus_rps" "$stratus_p99" "$stratus_cold_rps" "$stratus_cold_p99"
row "jco serve" "$jco_rps" "$jco_p99" "$jco_cold_rps" "$jco_cold_p99"
row "stratus serve P3" "$p3_rps" "$p3_p99" "$p3_cold_rps" "$p3_cold_p99"
if [ -n "$wasmtime_rps" ]; then
  row "wasmtime serve" "$wasmtime_rps" "$wasmtime_p99" "$wasmtime_cold_rps" "$wasmtime_cold_p99"
  awk -v s="$stratus_rps" -v w="$wasmtime_rps" 'BEGIN { printf "  stratus / wasmtime %.2f\n", (w > 0 ? s / w : 0) }'
fi
printf '  metrics off       %10.0f req/s   p99 %8.2f ms   (two turns: %.0f, %.0f req/s)\n' \
  "$off_rps" "$off_p99" "$stratus_rps" "$off_rps2"
printf '  metrics on        %10.0f req/s   p99 %8.2f ms   (two turns: %.0f, %.0f req/s)\n' \
  "$metrics_rps" "$metrics_p99" "$metrics_rps1" "$metrics_rps2"
printf '  otlp off          %10.0f req/s   p99 %8.2f ms   (two turns: %.0f, %.0f req/s)\n' \
  "$otlp_off_rps" "$otlp_off_p99" "$off_rps2" "$off_rps3"
printf '  otlp on           %10.0f req/s   p99 %8.2f ms   (two turns: %.0f, %.0f req/s)\n' \
  "$otlp_rps" "$otlp_p99" "$otlp_rps1" "$otlp_rps2"
awk -v on="$otlp_rps" -v off="$otlp_off_rps" 'BEGIN { printf "  otlp on / off     %.3f (goal >= 0.95)\n", (off > 0 ? on / off : 0) }'
awk -v s="$stratus_rps" -v n="$native_rps" -v j="$jco_rps" -v p="$p3_rps" -v on="$metrics_rps" -v off="$off_rps" 'BEGIN {
  printf "  stratus / native  %.2f (goal >= 0.50)\n", (n > 0 ? s / n : 0);
  printf "  stratus / jco     %.2f (goal >= 5)\n", (j > 0 ? s / j : 0);
  printf "  P3 / P2           %.2f (goal >= 0.90)\n", (s > 0 ? p / s : 0);
  printf "  metrics on / off  %.3f (goal >= 0.95)\n", (off > 0 ? on / off : 0) }'
bench_line http/stratus-vs-native "$stratus_rps" req/s native-Beast "$native_rps" ">=0.5"
bench_line http/stratus-vs-jco "$stratus_rps" req/s jco-serve "$jco_rps" ">=5"
bench_line http/p3-vs-p2 "$p3_rps" req/s stratus-serve-P2 "$stratus_rps" ">=0.9"
bench_line http/metrics-on-vs-off "$metrics_rps" req/s metrics-off "$off_rps" ">=0.95"
bench_line http/otlp-on-vs-off "$otlp_rps" req/s otlp-off "$otlp_off_rps" ">=0.95"
if [ -n "$wasmtime_rps" ]; then
  bench_line http/stratus-vs-wasmtime "$stratus_rps" req/s wasmtime-serve "$wasmtime_rps" ""
fi

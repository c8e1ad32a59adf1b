#!/usr/bin/env bash
# bench/workload: what the workload layer costs. In one run, with wrk on
# loopback: the serve tests' proxy component (GET /hello) under `stratus
# serve` (the baseline) and as a workload behind `stratus up`'s router; then
# the example workload (examples/workload.yaml: a keyvalue increment, a call
# into the linked greeter and a log record per request). Also the time
# `stratus up` takes to start a workload, from a warm aot cache.
# Usage: run.sh STRATUS PROXY_COMPONENT EXAMPLES_DIR CACHE_DIR
set -euo pipefail
stratus=$1 proxy=$2 examples=$3 cache=$4
duration=${BENCH_HTTP_SECONDS:-10}
connections=${BENCH_HTTP_CONNECTIONS:-32}
warmup=${BENCH_HTTP_WARMUP_SECONDS:-2}
url_path="/hello?name=stratus"
# shellcheck source=../wrk.sh
source "$(dirname "$0")/../wrk.sh"
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
base_port=$((30000 + ($$ % 10000) * 3))

cat >"$work/proxy.yaml" <<YAML
name: proxy
wit_world:
  components:
    - name: proxy
      image: $proxy
  host_interfaces:
    - {namespace: wasi, package: http, interfaces: [incoming-handler]}
YAML

# Starts `stratus up ARGS` on PORT; sets started_ms, its start time from
# its own line.
up() {  # PORT LOG ARGS...
  local port=$1 log=$2
  shift 2
  setsid "$stratus" up --engine aot --cache-dir "$cache" --addr "127.0.0.1:$port" "$@" >"$log" 2>/dev/null &
  pids+=($!)
  wait_up "$port"
  started_ms=$(sed -n 's/.* RUNNING in \([0-9]*\) ms.*/\1/p' "$log" | head -1)
}
measure() {  # PORT
  wrk_figures "$1" "$warmup" >/dev/null
  wrk_figures "$1" "$duration"
}

port=$base_port
setsid "$stratus" serve --engine aot --cache-dir "$cache" --addr "127.0.0.1:$port" "$proxy" >/dev/null 2>&1 & pids+=($!)
wait_up "$port"
read -r serve_rps serve_p99 < <(measure "$port")

# The first start fills the aot cache; the second is the figure.
port=$((base_port + 1))
up "$port" "$work/up0.log" "$work/proxy.yaml"
cleanup
pids=()
up "$port" "$work/up1.log" "$work/proxy.yaml"
start_ms=$started_ms
read -r up_rps up_p99 < <(measure "$port")
cleanup
pids=()

port=$((base_port + 2))
url_path="/"
up "$port" "$work/up2.log" --data-dir "$work/data" "$examples/workload.yaml"
cleanup
pids=()
up "$port" "$work/up3.log" --data-dir "$work/data" "$examples/workload.yaml"
counter_start_ms=$started_ms
read -r counter_rps counter_p99 < <(measure "$port")

printf 'bench/workload (wrk -t2 -c%s on loopback, %ss measured after a %ss warm-up)\n' "$connections" "$duration" "$warmup"
row() { printf '  %-44s %10.0f req/s   p99 %8.2f ms\n' "$@"; }
row "stratus serve, proxy GET /hello" "$serve_rps" "$serve_p99"
row "stratus up (router), proxy GET /hello" "$up_rps" "$up_p99"
row "stratus up, example workload GET / (kv+link)" "$counter_rps" "$counter_p99"
awk -v u="$up_rps" -v s="$serve_rps" 'BEGIN { printf "  router / serve    %.2f (goal >= 0.95: routing costs little)\n", (s > 0 ? u / s : 0) }'
printf '  workload start    %s ms (proxy), %s ms (example workload; warm aot cache)\n' "$start_ms" "$counter_start_ms"

#!/usr/bin/env bash
# bench/workload: what the workload layer costs. In one run, with wrk on
# loopback: the serve tests' proxy component (GET /hello) under `stratus
# serve` (the baseline) and as a workload behind `stratus up`'s router; then
# the example workload (examples/workload.yaml: a keyvalue increment, a call
# into the linked greeter and a log record per request); then examples/todo
# on a MariaDB the script starts (GET /todos of 10 rows, POST /todos: each
# request connects and logs in anew), when mariadb-server is installed. Also
# the time `stratus up` takes to start a workload, from a warm aot cache, and
# that of a workload of 50 components against one of 1 (the ratio).
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
measure() {  # PORT [WRK ARGS...]
  wrk_figures "$1" "$warmup" "${@:2}" >/dev/null
  wrk_figures "$1" "$duration" "${@:2}"
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

# Start time of a workload of 50 components against one of 1, from a warm
# aot cache: the proxy alone, then the proxy and 49 copies of the greeter
# under other names (members nobody calls: with lazy instantiation start
# only reads and decodes them). Best of 3 starts each.
cat >"$work/many.yaml" <<YAML
name: many
wit_world:
  components:
    - name: proxy
      image: $proxy
YAML
for i in $(seq 1 49); do
  cp "$examples/greeter.wasm" "$work/greeter$i.wasm"
  printf '    - name: greeter%s\n      image: %s\n' "$i" "$work/greeter$i.wasm" >>"$work/many.yaml"
done
printf '  host_interfaces:\n    - {namespace: wasi, package: http, interfaces: [incoming-handler]}\n' >>"$work/many.yaml"
best_start() {  # PORT YAML; sets best, the least of 3 start times (ms)
  local n
  best=""
  for n in 1 2 3; do
    up "$1" "$work/start$n.log" "$2"
    cleanup
    pids=()
    if [ -z "$best" ] || [ "$started_ms" -lt "$best" ]; then best=$started_ms; fi
  done
}
best_start "$port" "$work/proxy.yaml"
one_start_ms=$best
best_start "$port" "$work/many.yaml"
many_start_ms=$best

port=$((base_port + 2))
url_path="/"
up "$port" "$work/up2.log" --data-dir "$work/data" "$examples/workload.yaml"
cleanup
pids=()
up "$port" "$work/up3.log" --data-dir "$work/data" "$examples/workload.yaml"
counter_start_ms=$started_ms
read -r counter_rps counter_p99 < <(measure "$port")
cleanup
pids=()

# examples/todo on a MariaDB of its own (a fresh data folder, a port in a
# range of its own, the socket in $work).
todo_rows=""
if command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; then
  db_port=$((20000 + ($$ % 10000)))
  root=()
  if [ "$(id -u)" = 0 ]; then root=(--user=root); fi
  mariadb-install-db --no-defaults --datadir="$work/db" --auth-root-authentication-method=normal --skip-test-db \
    "${root[@]}" >"$work/db-install.log" 2>&1
  setsid "$(command -v mariadbd || echo /usr/sbin/mariadbd)" --no-defaults --datadir="$work/db" \
    --socket="$work/db.sock" --pid-file="$work/db.pid" --log-error="$work/db.log" --skip-networking=0 \
    --bind-address=127.0.0.1 --port="$db_port" --skip-log-bin "${root[@]}" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    if mariadb --no-defaults --socket="$work/db.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  mariadb --no-defaults --socket="$work/db.sock" -uroot -e "CREATE DATABASE todo;
    CREATE USER 'todo'@'localhost' IDENTIFIED BY 'todo'; GRANT ALL ON todo.* TO 'todo'@'localhost';
    CREATE USER 'todo'@'127.0.0.1' IDENTIFIED BY 'todo'; GRANT ALL ON todo.* TO 'todo'@'127.0.0.1';"
  sed -e "s|image: todo.wasm|image: $examples/todo.wasm|" -e "s|3306|$db_port|" "$examples/todo.yaml" >"$work/todo.yaml"
  port=$((base_port + 2))
  url_path="/todos"
  up "$port" "$work/up4.log" "$work/todo.yaml"
  for i in $(seq 1 10); do curl -fsS -o /dev/null -d "{\"title\": \"row $i\"}" "http://127.0.0.1:$port/todos"; done
  read -r todo_get_rps todo_get_p99 < <(measure "$port")
  cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"title": "bench"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  read -r todo_post_rps todo_post_p99 < <(measure "$port" -s "$work/post.lua")
  todo_rows=yes
fi

printf 'bench/workload (wrk -t2 -c%s on loopback, %ss measured after a %ss warm-up)\n' "$connections" "$duration" "$warmup"
row() { printf '  %-44s %10.0f req/s   p99 %8.2f ms\n' "$@"; }
row "stratus serve, proxy GET /hello" "$serve_rps" "$serve_p99"
row "stratus up (router), proxy GET /hello" "$up_rps" "$up_p99"
row "stratus up, example workload GET / (kv+link)" "$counter_rps" "$counter_p99"
if [ -n "$todo_rows" ]; then
  row "stratus up, todo GET /todos (MariaDB)" "$todo_get_rps" "$todo_get_p99"
  row "stratus up, todo POST /todos (MariaDB)" "$todo_post_rps" "$todo_post_p99"
else
  printf '  examples/todo: skipped (mariadb-server is not installed; ./x deps installs it)\n'
fi
awk -v u="$up_rps" -v s="$serve_rps" 'BEGIN { printf "  router / serve    %.2f (goal >= 0.95: routing costs little)\n", (s > 0 ? u / s : 0) }'
printf '  workload start    %s ms (proxy), %s ms (example workload; warm aot cache)\n' "$start_ms" "$counter_start_ms"
awk -v m="$many_start_ms" -v o="$one_start_ms" 'BEGIN { printf "  start, 50 components %s ms / 1 component %s ms = %.2f (goal close to 1: lazy instantiation)\n", m, o, (o > 0 ? m / o : 0) }'
bench_line workload/router-vs-serve "$up_rps" req/s stratus-serve "$serve_rps" ">=0.95"
bench_line workload/example-vs-proxy "$counter_rps" req/s stratus-serve "$serve_rps" ">=0.5"
bench_line workload/example-p99-goal "$counter_p99" ms goal 10 "<=1"
bench_line workload/start-50-vs-1 "$many_start_ms" ms one-component "$one_start_ms" "<=1.25"
if [ -n "$todo_rows" ]; then
  bench_line workload/todo-get-vs-proxy "$todo_get_rps" req/s stratus-serve "$serve_rps" ""
  bench_line workload/todo-post-vs-proxy "$todo_post_rps" req/s stratus-serve "$serve_rps" ""
fi

#!/usr/bin/env bash
# run_fuzz.sh TARGET SEED_DIR WORK_CORPUS SECONDS
# Runs a libFuzzer target for a bounded time on a working copy of its seeds
# (libFuzzer adds new inputs to the first corpus directory; seeds stay clean).
set -euo pipefail
target=$1 seeds=$2 corpus=$3 seconds=$4
mkdir -p "$corpus"
cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
# .wat seeds become binary modules: wabt's wat2wasm, or for syntax it does not
# know (try_table) jco's wasm-tools.
jco="$(cd "$(dirname "$0")/.." && pwd)/node_modules/.bin/jco"
for wat in "$corpus"/*.wat; do
  [ -e "$wat" ] || continue
  if wat2wasm "$wat" -o "${wat%.wat}.wasm" 2>/dev/null || "$jco" parse "$wat" -o "${wat%.wat}.wasm"; then
    rm "$wat"
  fi
done
exec "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=6144 -print_final_stats=1 "$corpus"

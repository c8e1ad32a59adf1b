#!/usr/bin/env bash
# run_fuzz.sh TARGET SEED_DIR WORK_CORPUS SECONDS
# Runs a libFuzzer target for a bounded time on a working copy of its seeds
# (libFuzzer adds new inputs to the first corpus directory; seeds stay clean).
set -euo pipefail
target=$1 seeds=$2 corpus=$3 seconds=$4
mkdir -p "$corpus"
cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
# .wat seeds become binary modules.
for wat in "$corpus"/*.wat; do
  [ -e "$wat" ] || continue
  wat2wasm "$wat" -o "${wat%.wat}.wasm" && rm "$wat"
done
exec "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=6144 -print_final_stats=1 "$corpus"

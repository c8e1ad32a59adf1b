#!/usr/bin/env bash
# run_fuzz.sh TARGET WORK SECONDS [--merge]
# Runs the libFuzzer program TARGET for SECONDS from its committed corpus
# (fuzz/corpus/NAME, NAME being TARGET's file name) and its seeds
# (fuzz/seeds/NAME). libFuzzer writes new inputs into the first corpus
# folder: that is WORK, a scratch folder (emptied first), so a bounded run
# never writes into the checkout. With --merge (./x fuzz), the committed
# corpus is then replaced by libFuzzer's -set_cover_merge=1 of it with WORK
# and the seeds: a small set of inputs that covers all the run saw (a set
# cover of the features, fewer files than -merge=1 keeps), for committing.
set -euo pipefail
target=$1 work=$2 seconds=$3 merge=${4:-}
fuzz=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$target")
corpus=$fuzz/corpus/$name
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_segv_handler=1:detect_leaks=1}
rm -rf "$work"
mkdir -p "$work/seeds" "$corpus"
cp "$fuzz/seeds/$name"/* "$work/seeds"/ 2>/dev/null || true
# .wat seeds become binary modules: wabt's wat2wasm, or for syntax it does not
# know (try_table) jco's wasm-tools.
jco="$fuzz/../node_modules/.bin/jco"
for wat in "$work/seeds"/*.wat; do
  [ -e "$wat" ] || continue
  if wat2wasm "$wat" -o "${wat%.wat}.wasm" 2>/dev/null || "$jco" parse "$wat" -o "${wat%.wat}.wasm"; then
    rm "$wat"
  fi
done
mkdir -p "$work/new"
"$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=6144 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/new" "$corpus" "$work/seeds"
if [ "$merge" = --merge ]; then
  rm -rf "$work/merged"
  mkdir "$work/merged"
  "$target" -set_cover_merge=1 -timeout=20 -rss_limit_mb=6144 "$work/merged" "$corpus" "$work/seeds" "$work/new"
  before=$(find "$corpus" -type f | wc -l)
  rm -rf "$corpus"
  mv "$work/merged" "$corpus"
  echo "run_fuzz.sh: $name: corpus $before -> $(find "$corpus" -type f | wc -l) inputs" >&2
fi

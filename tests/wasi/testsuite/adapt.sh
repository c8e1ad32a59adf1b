#!/usr/bin/env bash
# adapt.sh JCO IN.wasm OUT.wasm: adapts a WASI preview 1 command module into a
# component with jco's preview1 adapter. A module jco cannot adapt is a test
# failure, not a build failure: OUT is left empty and OUT.error says why.
set -u
jco=$1 in=$2 out=$3
rm -f "$out.error"
if ! "$jco" new "$in" --wasi-command -o "$out" 2> "$out.error"; then
  : > "$out"
  exit 0
fi
rm -f "$out.error"

#!/bin/sh
# The stratus host image's entrypoint. It takes the arguments wasmCloud's
# runtime-operator Helm chart gives its host containers (written for wash:
# `host --host-name=... --host-group=... --scheduler-nats-url=...`, see
# charts/runtime-operator/templates/runtime/deployment.yaml) and runs
# `stratus host` with the same meaning, so the chart can run stratus hosts
# in place of wasmCloud's own.
#
#   wash's flag                      stratus host
#   host                             (the subcommand)
#   --scheduler-nats-url=URL         --nats URL
#   --scheduler-nats-tls-ca/-cert/-key=F   --nats-tls-ca/-cert/-key F
#   --host-group=G                   --host-group G
#   --host-name=N                    --hostname N (the name the operator reaches the host at)
#   --environment=E                  --environment E
#   --http-addr=A                    --http-addr A
#   --oci-cache-dir=D                --cache-dir D/aot (compiled components, on the chart's emptyDir)
#   --log-level, --data-nats-*, --oci-ca-path, --wasm-proposal, --host-plugin, --user-config,
#   --wasi-webgpu                    ignored, with a line on stderr
#   --tls-cert-path, --tls-key-path  refused: stratus host serves plain HTTP
#
# The host id is $STRATUS_HOST_ID, else the pod's name ($HOSTNAME): one
# NATS subject token, which the pod IP in --host-name is not. Without the
# chart: STRATUS_NATS_URL, STRATUS_HOST_GROUP and STRATUS_HTTP_ADDR set
# the rest. Any other argument (stratus host's own flags, from the chart's
# extraArgs) goes through unchanged; a first argument naming another
# stratus command (`up`, `run`, `--help`, ...) runs that instead.
set -eu

STRATUS=${STRATUS_BIN:-/usr/local/bin/stratus}

note() { printf 'stratus-host-entrypoint: %s\n' "$*" >&2; }

# Past a leading --log-level, `host` (or nothing) means the host.
for a in "$@"; do
  case $a in
    --log-level=*) shift; note "ignored: $a (stratus host logs every event)" ;;
    *) break ;;
  esac
done
if [ $# -gt 0 ] && [ "$1" != host ]; then exec "$STRATUS" "$@"; fi
[ $# -gt 0 ] && shift

state=${HOME:-/tmp}/stratus
set -- "$@" --end-of-chart-args
nats=${STRATUS_NATS_URL:-nats://127.0.0.1:4222}
group=${STRATUS_HOST_GROUP:-default}
http=${STRATUS_HTTP_ADDR:-0.0.0.0:8080}
cache=${STRATUS_CACHE_DIR:-$state/cache}
while [ "$1" != --end-of-chart-args ]; do
  a=$1; shift
  value=${a#*=}
  case $a in
    --scheduler-nats-url=*) nats=$value ;;
    --scheduler-nats-tls-ca=*) set -- "$@" --nats-tls-ca "$value" ;;
    --scheduler-nats-tls-cert=*) set -- "$@" --nats-tls-cert "$value" ;;
    --scheduler-nats-tls-key=*) set -- "$@" --nats-tls-key "$value" ;;
    --host-group=*) group=$value ;;
    --host-name=*) set -- "$@" --hostname "$value" ;;
    --environment=*) set -- "$@" --environment "$value" ;;
    --http-addr=*) http=$value ;;
    --oci-cache-dir=*) cache=$value/aot ;;
    --tls-cert-path=* | --tls-key-path=* | --tls-ca-path=*)
      note "refused: $a: stratus host serves plain HTTP (terminate TLS in front of it)"
      exit 2 ;;
    --data-nats-* | --oci-ca-path=* | --wasm-proposal=* | --host-plugin=* | --user-config=* | --wasi-webgpu | \
      --scheduler-nats-tls-first | --log-level=*)
      note "ignored: $a (no stratus host equivalent; see README.md, "Under wasmCloud on Kubernetes")" ;;
    *) set -- "$@" "$a" ;;
  esac
done
shift  # --end-of-chart-args

exec "$STRATUS" host --nats "$nats" --host-id "${STRATUS_HOST_ID:-${HOSTNAME:-$(hostname)}}" --host-group "$group" \
  --http-addr "$http" --data-dir "$state/data" --cache-dir "$cache" "$@"

#!/usr/bin/env bash
# Where a build of weir's h2 router (or the bare node:http2 pipe, `raw`) allocates, per function:
# a sampling heap profile over N streams (after 5,000 of warm-up) that keeps collected objects.
# Usage: bash bench/h2/alloc-profile.sh BUNDLE|raw OUT.heapprofile
#        node bench/h2/alloc-summary.mjs OUT.heapprofile
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-40000}
BACKEND=${BACKEND:-18380}
WORK=$(mktemp -d /tmp/weir-bench-h2-allocprof.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
NODE="node_modules/.bin/node"; [ -x "$NODE" ] || NODE=node
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
LAST=$(( $(nproc) - 1 ))
if [ "$LAST" -ge 1 ] && command -v taskset >/dev/null; then
  ONPROXY="taskset -c $LAST"; ONLOAD="taskset -c 0-$(( LAST - 1 ))"
else
  ONPROXY=""; ONLOAD=""
fi
sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" bench/h2/nginx-backend.conf.tmpl > "$WORK/backend.conf"
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
port=$((BACKEND + 10))
sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#$port#g" -e "s#__ADMIN__#$((port + 1))#g" \
  bench/h2/weir.yaml.tmpl > "$WORK/w.yaml"
if [ "$1" = raw ]; then MAIN=(bench/h2/node-raw.mjs "$port" "$BACKEND"); else MAIN=("$1" proxy "$WORK/w.yaml"); fi
OUT=$(realpath -m "$2")
ALLOC_OUT=$OUT $ONPROXY "$NODE" --max-semi-space-size=16 --import ./bench/h2/alloc-sampler.mjs "${MAIN[@]}" \
  > "$WORK/proxy.log" 2>&1 & pid=$!; PIDS+=($pid)
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
$ONLOAD h2load -t1 -c10 -m10 -n 5000 -H ":authority: web" "http://127.0.0.1:$port/" > /dev/null
kill -USR2 "$pid"; sleep 0.3
$ONLOAD h2load -t1 -c10 -m10 -n "$N" -H ":authority: web" "http://127.0.0.1:$port/" | grep -E "^requests:"
kill -USR2 "$pid"
for _ in $(seq 1 50); do [ -s "$OUT" ] && break; sleep 0.2; done
echo "wrote $OUT (node bench/h2/alloc-summary.mjs $OUT $N)"

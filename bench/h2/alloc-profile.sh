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
source bench/h2/lib.sh
port=$((BACKEND + 10))
target_main "$1" "$port" "$WORK/w.yaml"
OUT=$(realpath -m "$2")
ALLOC_OUT=$OUT $ONPROXY "$NODE" --max-semi-space-size=16 --import ./bench/h2/alloc-sampler.mjs "${MAIN[@]}" \
  > "$WORK/proxy.log" 2>&1 & pid=$!; PIDS+=($pid)
warm "$port"
kill -USR2 "$pid"; sleep 0.3
$ONLOAD h2load -t1 -c10 -m10 -n "$N" -H ":authority: web" "http://127.0.0.1:$port/" | grep -E "^requests:"
kill -USR2 "$pid"
for _ in $(seq 1 50); do [ -s "$OUT" ] && break; sleep 0.2; done
echo "wrote $OUT (node bench/h2/alloc-summary.mjs $OUT $N)"

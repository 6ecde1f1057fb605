#!/usr/bin/env bash
# Bytes allocated (and promoted to the old generation) per h2 stream by one or more builds of weir's
# h2 router, and by the bare node:http2 pipe: a figure that other load on the machine does not
# disturb, unlike streams/s and CPU time. Usage:
#   bash bench/h2/alloc.sh dist/bin/weir.js [/path/to/other/weir.js ...] [raw]
# (N=40000 streams by default, after 5,000 of warm-up; `raw` is bench/h2/node-raw.mjs.)
# Each target runs alone (pinned as in run.sh) under `node --trace-gc-nvp` with weir's h2 heap flags (16 MB semi-space);
# the young generation's `allocated` and `promoted` are summed over the scavenges of the N streams.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-40000}
BACKEND=${BACKEND:-18280}
WORK=$(mktemp -d /tmp/weir-bench-h2-alloc.XXXXXX)
source bench/h2/lib.sh
FLAGS=(--max-semi-space-size=16 --max-old-space-size=512 --trace-gc-nvp)
i=0
for target in "$@"; do
  i=$((i + 1)); port=$((BACKEND + 10 * i))
  target_main "$target" "$port" "$WORK/w$i.yaml"
  $ONPROXY "$NODE" "${FLAGS[@]}" "${MAIN[@]}" > "$WORK/w$i.log" 2>&1 & pid=$!
  PIDS+=($pid)
  warm "$port"
  sleep 0.3
  from=$(wc -l < "$WORK/w$i.log")
  $ONLOAD h2load -t1 -c10 -m10 -n "$N" -H ":authority: web" "http://127.0.0.1:$port/" > "$WORK/h2load$i.txt"
  sleep 0.3
  tail -n +$((from + 1)) "$WORK/w$i.log" | grep "gc=s" | grep -o " allocated=[0-9]*\| promoted=[0-9]*" |
    awk -F= -v n="$N" -v t="$target" '{ s[$1] += $2 } END {
      printf "%-40s %6.1f KB allocated, %5.2f KB promoted per stream\n", t, s[" allocated"] / n / 1024, s[" promoted"] / n / 1024 }'
  kill "$pid" 2>/dev/null || true
done

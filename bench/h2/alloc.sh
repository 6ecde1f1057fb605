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
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
NODE="node_modules/.bin/node"; [ -x "$NODE" ] || NODE=node
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
# pinned as bench/h2/run.sh does (how many frames one socket read carries changes the count per stream)
LAST=$(( $(nproc) - 1 ))
if [ "$LAST" -ge 1 ] && command -v taskset >/dev/null; then
  ONPROXY="taskset -c $LAST"; ONLOAD="taskset -c 0-$(( LAST - 1 ))"
else
  ONPROXY=""; ONLOAD=""
fi
sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" bench/h2/nginx-backend.conf.tmpl > "$WORK/backend.conf"
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
FLAGS=(--max-semi-space-size=16 --max-old-space-size=512 --trace-gc-nvp)
i=0
for target in "$@"; do
  i=$((i + 1)); port=$((BACKEND + 10 * i))
  sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#$port#g" -e "s#__ADMIN__#$((port + 1))#g" \
    bench/h2/weir.yaml.tmpl > "$WORK/w$i.yaml"
  if [ "$target" = raw ]; then
    $ONPROXY "$NODE" "${FLAGS[@]}" bench/h2/node-raw.mjs "$port" "$BACKEND" > "$WORK/w$i.log" 2>&1 & pid=$!
  else
    $ONPROXY "$NODE" "${FLAGS[@]}" "$target" proxy "$WORK/w$i.yaml" > "$WORK/w$i.log" 2>&1 & pid=$!
  fi
  PIDS+=($pid)
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  $ONLOAD h2load -t1 -c10 -m10 -n 5000 -H ":authority: web" "http://127.0.0.1:$port/" > /dev/null
  sleep 0.3
  from=$(wc -l < "$WORK/w$i.log")
  $ONLOAD h2load -t1 -c10 -m10 -n "$N" -H ":authority: web" "http://127.0.0.1:$port/" > "$WORK/h2load$i.txt"
  sleep 0.3
  tail -n +$((from + 1)) "$WORK/w$i.log" | grep "gc=s" | grep -o " allocated=[0-9]*\| promoted=[0-9]*" |
    awk -F= -v n="$N" -v t="$target" '{ s[$1] += $2 } END {
      printf "%-40s %6.1f KB allocated, %5.2f KB promoted per stream\n", t, s[" allocated"] / n / 1024, s[" promoted"] / n / 1024 }'
  kill "$pid" 2>/dev/null || true
done

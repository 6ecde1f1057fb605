#!/usr/bin/env bash
# Fairness at many connections: wrk with 2,000 (CONNS) keep-alive connections against an nginx backend
# on loopback, directly and through `weir proxy` (the bundled CLI), reporting for each the mean, p99,
# p99.9 and maximum request latency, the ratio max / mean (a fair server keeps it small: no request
# waits much longer than the others), errors, and weir's RSS (idle, peak under load, and per 1,000
# connections). Usage:
#   npm run bench:fairness             (CONNS=2000 DUR=10s ROUNDS=3 WORKERS=1 by default)
# Each round runs direct and weir once, in turn; the median round (by max/mean) is reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONNS=${CONNS:-2000}
DUR=${DUR:-10s}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-1}
BACKEND=${BACKEND_PORT:-18180}; WEIR=${WEIR_PORT:-18182}; ADMIN=${ADMIN_PORT:-19980}
# every connection is a file descriptor in wrk, in weir (twice: client side and upstream side) and
# in nginx: raise the soft limit up to the hard one
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $(( CONNS * 2 + 100 )) ] || { echo "ulimit -n $(ulimit -n) is too low for $CONNS connections"; exit 1; }
WORK=$(mktemp -d /tmp/weir-fairness.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NODE="node_modules/.bin/node"
PIN=${PIN:-1}
LAST=$(( $(nproc) - 1 ))
if [ "$PIN" = 1 ] && [ "$LAST" -ge 1 ] && command -v taskset >/dev/null; then
  ONPROXY="taskset -c $LAST"; ONLOAD="taskset -c 0-$(( LAST - 1 ))"
else
  PIN=0; ONPROXY=""; ONLOAD=""
fi
# workers > 1 need more than the one core: let them spread
[ "$WORKERS" = 1 ] || ONPROXY=""

sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" bench/proxy/nginx-backend.conf.tmpl > "$WORK/backend.conf"
{ [ "$WORKERS" = 1 ] || echo "workers: $WORKERS"; cat <<YAML
admin:
  port: $ADMIN
routers:
- protocol: http
  label: bench
  dtab: /svc/web => /\$/inet/127.0.0.1/$BACKEND
  servers:
  - port: $WEIR
YAML
} > "$WORK/weir.yaml"
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
$ONPROXY "$NODE" --import tsx src/bin/weir.ts proxy "$WORK/weir.yaml" > "$WORK/weir.log" 2>&1 & WEIR_PID=$!; PIDS+=($WEIR_PID)

# the RSS of weir's processes: the proxy and, with workers, its worker processes
rss_of() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$(( total + $(awk '/VmRSS/ { s += $2 } END { print s + 0 }' "/proc/$p/status" 2>/dev/null || echo 0) ))
  done
  echo $(( total / 1024 ))
}
wait_port() { for _ in $(seq 1 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; cat "$WORK/weir.log"; exit 1; }
wait_port $BACKEND; wait_port $WEIR; sleep 1
IDLE=$(rss_of $WEIR_PID)

once() { # port label pid -> appends "ratio mean_ms p99_ms p999_ms max_ms requests errors timeouts peak_rss" to $WORK/label.txt
  $ONLOAD wrk -t1 -c"$CONNS" -d"$DUR" --timeout 30s -H "Host: web" -s bench/fairness/report.lua \
    "http://127.0.0.1:$1/" > "$WORK/wrk-$2.out" 2>&1 &
  local w=$! peak=0 r
  while kill -0 $w 2>/dev/null; do
    if [ -n "$3" ]; then r=$(rss_of "$3"); [ "$r" -gt "$peak" ] && peak=$r; fi
    sleep 0.2
  done
  wait $w || true
  grep '^FAIR' "$WORK/wrk-$2.out" | sed 's/[a-z0-9_]*=//g' | awk -v peak="$peak" \
    '{ printf "%.1f %.2f %.2f %.2f %.2f %d %d %d %d\n", $5 / $2, $2 / 1000, $4 / 1000, $5 / 1000, $6 / 1000, $7, $8, $9, peak }' \
    >> "$WORK/$2.txt"
}
# warm up: open every connection once
$ONLOAD wrk -t1 -c"$CONNS" -d2s --timeout 30s -H "Host: web" "http://127.0.0.1:$WEIR/" > /dev/null 2>&1 || true
for _ in $(seq 1 "$ROUNDS"); do
  once $BACKEND direct ""
  once $WEIR weir $WEIR_PID
done
echo "== fairness: wrk -t1 -c$CONNS -d$DUR --timeout 30s, median of $ROUNDS rounds by max/mean (loopback, $(nproc) cores, pinned: $PIN, workers: $WORKERS, load average: $(cut -d' ' -f1-3 /proc/loadavg)) =="
printf "%-8s %9s %9s %9s %9s %9s %9s %8s %8s %10s\n" target "max/mean" "mean ms" "p99 ms" "p99.9 ms" "max ms" requests errors timeouts "peak RSS"
for n in direct weir; do
  sort -n "$WORK/$n.txt" | awk -v n="$n" '{ a[NR] = $0 } END { split(a[int((NR + 1) / 2)], f, " ");
    printf "%-8s %9s %9s %9s %9s %9s %9s %8s %8s %7s MB\n", n, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9] }'
  echo "         rounds (max/mean): $(awk '{printf "%s ", $1}' "$WORK/$n.txt")"
done
PEAK=$(sort -n "$WORK/weir.txt" | awk '{ a[NR] = $9 } END { print a[int((NR + 1) / 2)] }')
echo "weir RSS: idle $IDLE MB, peak with $CONNS connections $PEAK MB, $(awk -v p="$PEAK" -v i="$IDLE" -v c="$CONNS" 'BEGIN { printf "%.1f", (p - i) * 1000 / c }') MB per 1,000 connections"

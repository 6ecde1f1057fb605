#!/usr/bin/env bash
# Fairness at many connections: CONNS (2,000) keep-alive connections, each sending one request at a
# time, against an nginx backend on loopback, directly and through `weir proxy`. For each target, the
# median of ROUNDS rounds (by max/mean) of:
#   - bench/fairness/load.mjs (node): mean, p99, p99.9 and max latency, counting from the moment each
#     connection is opened (waiting to be accepted counts) and counting a request still unanswered at
#     the end at its age; max/mean (a fair proxy keeps it small: no request waits much longer than
#     the others); connections that got no answer at all in the run ("starved");
#   - wrk with bench/fairness/report.lua: the same ratio as wrk sees it (wrk leaves out the requests
#     that never complete, so it understates starvation);
# and weir's RSS: idle, peak with CONNS connections, and per 1,000 connections. Usage:
#   npm run bench:fairness   (CONNS=2000 DUR=10 ROUNDS=3 WORKERS=1; BEFORE=<git ref> also runs that
#                             version of weir in the same rounds, for a before/after comparison)
# The first round of each weir is its cold start (no upstream connections yet); it is reported apart.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONNS=${CONNS:-2000}
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-1}
BACKEND=${BACKEND_PORT:-18180}; WEIR=${WEIR_PORT:-18182}; WEIR_BEFORE=$(( WEIR + 1 )); ADMIN=${ADMIN_PORT:-19980}
# every connection is a file descriptor in the load generator, in weir (twice: the client's and the
# upstream one) and in nginx: raise the soft limit up to the hard one
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $(( CONNS * 2 + 100 )) ] || { echo "ulimit -n $(ulimit -n) is too low for $CONNS connections"; exit 1; }
WORK=$(mktemp -d /tmp/weir-fairness.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NODE="$PWD/node_modules/.bin/node"
# CPU pinning as bench/proxy/run.sh: weir on the last core, the load and the backend on the others
source bench/pin.sh
# workers > 1 need more than the one core: let them spread
[ "$WORKERS" = 1 ] || ONPROXY=""

sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" bench/proxy/nginx-backend.conf.tmpl > "$WORK/backend.conf"
config() { # port admin
  [ "$WORKERS" = 1 ] || echo "workers: $WORKERS"
  printf 'admin:\n  port: %s\nrouters:\n- protocol: http\n  label: bench\n  dtab: /svc/web => /$/inet/127.0.0.1/%s\n  servers:\n  - port: %s\n' "$2" "$BACKEND" "$1"
}
config $WEIR $ADMIN > "$WORK/weir.yaml"
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
# weir runs from its sources (tsx): the bundle cannot load every optional dependency (docs/benchmarks.md)
$ONPROXY "$NODE" --import tsx src/bin/weir.ts proxy "$WORK/weir.yaml" > "$WORK/weir.log" 2>&1 & WEIR_PID=$!; PIDS+=($WEIR_PID)
TARGETS=(direct weir)
declare -A PORT=([direct]=$BACKEND [weir]=$WEIR) PID=([direct]="" [weir]=$WEIR_PID)
if [ -n "${BEFORE:-}" ]; then
  mkdir -p "$WORK/before" && git archive "$BEFORE" | tar -x -C "$WORK/before" && ln -s "$PWD/node_modules" "$WORK/before/node_modules"
  config $WEIR_BEFORE $(( ADMIN + 1 )) > "$WORK/weir-before.yaml"
  (cd "$WORK/before" && exec $ONPROXY "$NODE" --import tsx src/bin/weir.ts proxy "$WORK/weir-before.yaml" > "$WORK/weir-before.log" 2>&1) &
  PIDS+=($!); TARGETS+=(weir-before); PORT[weir-before]=$WEIR_BEFORE; PID[weir-before]=$!
fi

# the RSS of a process and its children (a proxy's worker processes)
rss_of() {
  local total=0 p
  for p in $1 $(pgrep -x -P "$1" node || true); do
    total=$(( total + $(awk '/VmRSS/ { s += $2 } END { print s + 0 }' "/proc/$p/status" 2>/dev/null || echo 0) ))
  done
  echo $(( total / 1024 ))
}
wait_port() { for _ in $(seq 1 600); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; cat "$WORK"/weir*.log; exit 1; }
for t in "${TARGETS[@]}"; do wait_port "${PORT[$t]}"; done; sleep 2
declare -A IDLE
for t in "${TARGETS[@]}"; do [ -z "${PID[$t]}" ] || IDLE[$t]=$(rss_of "${PID[$t]}"); done

field() { sed -n "s/.*[[:space:]]$1=\([^ ]*\).*/\1/p"; }
once() { # target round
  local t=$1 peak=0 r out
  $ONLOAD "$NODE" bench/fairness/load.mjs "${PORT[$t]}" "$CONNS" "$DUR" > "$WORK/load-$t-$2.out" 2>&1 &
  local w=$!
  while kill -0 $w 2>/dev/null; do
    if [ -n "${PID[$t]}" ]; then r=$(rss_of "${PID[$t]}"); [ "$r" -gt "$peak" ] && peak=$r; fi
    sleep 0.2
  done
  wait $w || true
  out=$(grep '^LOAD' "$WORK/load-$t-$2.out" || echo "LOAD failed")
  echo "$(echo "$out" | field max_over_mean) $(echo "$out" | field mean_ms) $(echo "$out" | field p99_ms) $(echo "$out" | field p999_ms) $(echo "$out" | field max_ms) $(echo "$out" | field rps) $(echo "$out" | field starved) $(echo "$out" | field oldest_unanswered_ms) $peak" \
    >> "$WORK/$t.$([ "$2" = 1 ] && echo cold || echo warm)"
}
wrk_once() { # target
  $ONLOAD wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 30s -H "Host: web" -s bench/fairness/report.lua \
    "http://127.0.0.1:${PORT[$1]}/" 2>&1 | grep '^FAIR' | sed 's/[a-z0-9_]*=//g' | awk '{ printf "%.1f %.2f %.2f %.2f\n", $6 / $2, $2 / 1000, $4 / 1000, $6 / 1000 }'
}
for r in $(seq 1 $(( ROUNDS + 1 ))); do
  for t in "${TARGETS[@]}"; do once "$t" "$r"; done
done
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== fairness: $CONNS connections, ${DUR}s, bench/fairness/load.mjs (loopback, $(nproc) cores, pinned: $PIN, workers: $WORKERS, load average: $LOADAVG) =="
printf "%-18s %9s %9s %9s %9s %9s %8s %8s %10s %9s\n" target "max/mean" "mean ms" "p99 ms" "p99.9 ms" "max ms" "req/s" starved "oldest open" "peak RSS"
row() { awk -v n="$1" '{ printf "%-18s %9s %9s %9s %9s %9s %8s %8s %10s %6s MB\n", n, $1, $2, $3, $4, $5, $6, $7, $8, $9 }'; }
for t in "${TARGETS[@]}"; do
  if [ -n "${PID[$t]}" ]; then row "$t (cold)" < "$WORK/$t.cold"; else cat "$WORK/$t.cold" >> "$WORK/$t.warm"; fi
  sort -n "$WORK/$t.warm" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }' | row "$t"
  echo "                   rounds (max/mean): $(awk '{printf "%s ", $1}' "$WORK/$t.warm")"
done
echo "== the same through wrk -t1 -c$CONNS -d${DUR}s --timeout 30s (max/mean, mean ms, p99 ms, max ms; requests never answered are left out) =="
for t in "${TARGETS[@]}"; do printf "%-18s %s\n" "$t" "$(wrk_once "$t")"; done
for t in "${TARGETS[@]}"; do
  [ -n "${PID[$t]}" ] || continue
  PEAK=$(sort -n "$WORK/$t.warm" | awk '{ a[NR] = $9 } END { print a[int((NR + 1) / 2)] }')
  echo "$t RSS: idle ${IDLE[$t]} MB, peak with $CONNS connections $PEAK MB, $(awk -v p="$PEAK" -v i="${IDLE[$t]}" -v c="$CONNS" 'BEGIN { printf "%.1f", (p - i) * 1000 / c }') MB per 1,000 connections"
done

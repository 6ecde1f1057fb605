#!/usr/bin/env bash
# weir against an earlier weir, end to end: the `weir proxy` CLI bundled from this checkout and from
# git ref REF (a temporary worktree), the same config (bench/proxy/weir.yaml.tmpl: Host web → the
# nginx backend, default client and service settings), both on the same core, wrk and the nginx
# backend on the others. Usage:
#   bash bench/proxy/ab.sh REF                    (ROUNDS=10 DUR=2s CONNS=50 by default)
# NEW_EXTRA (YAML appended to this checkout's config) compares a feature's cost against the same
# code without it, e.g. tracing at sampleRate 0:
#   NEW_EXTRA=$'telemetry:\n- {kind: io.l5d.zipkin, sampleRate: 0}' bash bench/proxy/ab.sh HEAD
# NEW_NODE_FLAGS (WEIR_NODE_FLAGS for this checkout's proxy only) compares node flags the same way:
#   NEW_NODE_FLAGS="--max-semi-space-size=2 --max-old-space-size=512 --single-threaded-gc" bash bench/proxy/ab.sh HEAD
# Rounds alternate the two proxies (A, B, B, A, …), so load from other processes on a shared machine
# falls on both alike; it prints each one's median req/s and the median of the per-round ratios
# (this checkout / REF), the figure to compare with a performance budget, and each proxy's CPU time
# per request (user + system, from /proc/PID/stat over each run), which other load disturbs less.
set -euo pipefail
cd "$(dirname "$0")/../.."
REF=${1:?usage: bench/proxy/ab.sh REF}
DUR=${DUR:-2s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-10}
BACKEND=18180; NEW=18182; OLD=18183; ADMIN_NEW=19192; ADMIN_OLD=19193
WORK=$(mktemp -d /tmp/weir-ab.XXXXXX)
PIDS=()
source bench/proxy/lib.sh

command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NODE="$PWD/node_modules/.bin/node"
source bench/pin.sh

bundle_both "$REF"

render() { sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#${3:-}#g" -e "s#__ADMIN__#${4:-}#g" "$1" > "$2"; }
render bench/proxy/nginx-backend.conf.tmpl "$WORK/backend.conf"
render bench/proxy/weir.yaml.tmpl "$WORK/new.yaml" $NEW $ADMIN_NEW
render bench/proxy/weir.yaml.tmpl "$WORK/old.yaml" $OLD $ADMIN_OLD
if [ -n "${NEW_EXTRA:-}" ]; then printf '%s\n' "$NEW_EXTRA" >> "$WORK/new.yaml"; fi
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
env ${NEW_NODE_FLAGS+"WEIR_NODE_FLAGS=$NEW_NODE_FLAGS"} $ONPROXY "$NODE" "$WORK/new.mjs" proxy "$WORK/new.yaml" > "$WORK/new.log" 2>&1 & PIDS+=($!)
$ONPROXY "$NODE" "$WORK/old.mjs" proxy "$WORK/old.yaml" > "$WORK/old.log" 2>&1 & PIDS+=($!)
for p in $BACKEND $NEW $OLD; do wait_port $p; done

pid_of() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
# ticks PID FIELDS: its clock ticks, FIELDS of /proc/PID/stat summed ('$14 + $15' user and system, '$15' system)
ticks() { awk "{print $2}" "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
# one run against a port: "req/s µs-of-CPU-per-request µs-of-system-time-per-request"
rps() {
  local pid before sys_before out after sys_after
  pid=$(pid_of "$1"); before=$(ticks "$pid" '$14 + $15'); sys_before=$(ticks "$pid" '$15')
  out=$($ONLOAD wrk -t1 -c"$CONNS" -d"$DUR" -H "Host: web" "http://127.0.0.1:$1/")
  after=$(ticks "$pid" '$14 + $15'); sys_after=$(ticks "$pid" '$15')
  echo "$out" | awk -v t=$(( after - before )) -v st=$(( sys_after - sys_before )) -v hz="$TICK" \
    '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%.0f %.2f %.2f", r, (n > 0 ? t / hz * 1e6 / n : 0), (n > 0 ? st / hz * 1e6 / n : 0)}'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rps $NEW > /dev/null; rps $OLD > /dev/null
for r in $(seq 1 "$ROUNDS"); do
  if [ $(( r % 2 )) = 1 ]; then n=$(rps $NEW); o=$(rps $OLD); else o=$(rps $OLD); n=$(rps $NEW); fi
  echo "$n $o" >> "$WORK/rounds.txt"   # new-rps new-cpu new-sys old-rps old-cpu old-sys
done
echo "== weir ($(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)) against weir $REF: wrk -t1 -c$CONNS -d$DUR, $ROUNDS alternating rounds, load average $(cut -d' ' -f1 /proc/loadavg) =="
echo "this checkout  $(awk '{print $1}' "$WORK/rounds.txt" | median) req/s, $(awk '{print $2}' "$WORK/rounds.txt" | median) µs CPU/request, of it $(awk '{print $3}' "$WORK/rounds.txt" | median) system   (rounds: $(awk '{printf "%s ", $1}' "$WORK/rounds.txt"))"
echo "$REF  $(awk '{print $4}' "$WORK/rounds.txt" | median) req/s, $(awk '{print $5}' "$WORK/rounds.txt" | median) µs CPU/request, of it $(awk '{print $6}' "$WORK/rounds.txt" | median) system   (rounds: $(awk '{printf "%s ", $4}' "$WORK/rounds.txt"))"
echo "throughput ratio (median of per-round ratios, this / $REF): $(awk '{ printf "%.4f\n", $1 / $4 }' "$WORK/rounds.txt" | median)"
echo "CPU per request ratio (median of per-round ratios, this / $REF): $(awk '{ printf "%.4f\n", $2 / $5 }' "$WORK/rounds.txt" | median)"
echo "system time per request ratio (median of per-round ratios, this / $REF): $(awk '{ printf "%.4f\n", ($6 > 0 ? $3 / $6 : 0) }' "$WORK/rounds.txt" | median)"

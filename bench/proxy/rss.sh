#!/usr/bin/env bash
# weir's memory at 1,000 connections, against an earlier weir in the same run. Usage:
#   bash bench/proxy/rss.sh                (BASE=main ROUNDS=3 CONNS=1000 DUR=5s WARM=3s by default)
# Both are the `weir proxy` bin as `npm run build:bin` makes it (each from its own package.json: this
# checkout's, and git ref BASE's in a temporary worktree), with the same config
# (bench/proxy/weir.yaml.tmpl: Host web → an nginx backend on loopback), pinned as bench/proxy/run.sh
# pins them (weir on the last core, wrk and nginx on the others). Each round starts both afresh, in
# alternating order, and for each reports:
#   idle      RSS 2 s after it listens, before any request (MB)
#   warm      RSS after WARM of wrk -c50 (the JIT and the upstream pool warmed up)
#   peak      the highest RSS during wrk -t1 -cCONNS -dDUR --timeout 4s, sampled every 100 ms
#   req/s     of that run; µs of CPU (user + system) per request; max latency; requests over 4 s
#             (wrk's timeouts) and other socket errors
# then the medians and the median of the per-round req/s ratios (this / BASE): memory is little
# disturbed by other load on the machine, throughput is, so compare the ratio, not the req/s.
# NEW_FLAGS / BASE_FLAGS, when set, are given as WEIR_NODE_FLAGS (the heap flags `weir proxy`
# restarts itself with; docs/config.md) — BASE=HEAD NEW_FLAGS=... compares flags on the same code;
# NEW_ENV / BASE_ENV (VAR=value …) set environment variables for one side. RATE=N paces the
# CONNS connections to about N requests a second in all (bench/proxy/pace.lua): CPU per request at a
# fixed offered load does not depend on how much of the core other processes left (batching), so
# it compares two weirs on a busy machine better than req/s at full load does.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${BASE:-main}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1000}
DUR=${DUR:-5s}
WARM=${WARM:-3s}
BACKEND=18280; NEW=18282; OLD=18283; ADMIN_NEW=19292; ADMIN_OLD=19293
WORK=$(mktemp -d /tmp/weir-rss.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git worktree remove --force "$WORK/base" 2>/dev/null || true
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NODE="$PWD/node_modules/.bin/node"
source bench/pin.sh

# the bin as the checkout at $1 builds it: its package.json's build:bin esbuild command, to $2
bundle() {
  local cmd bin="$PWD/node_modules/.bin"
  cmd=$(cd "$1" && node -e '
    const s = require("./package.json").scripts["build:bin"].split("&&")[0]
    process.stdout.write(s.replace(/--outfile=\S+/, "--outfile=" + process.argv[1]).replace(/--log-level=\S+/, "--log-level=error"))
  ' "$2")
  (cd "$1" && PATH="$bin:$PATH" eval "$cmd")
}
git worktree add --quiet --detach "$WORK/base" "$BASE"
ln -s "$PWD/node_modules" "$WORK/base/node_modules"
bundle . "$WORK/new.mjs"
bundle "$WORK/base" "$WORK/base.mjs"

render() { sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#${3:-}#g" -e "s#__ADMIN__#${4:-}#g" "$1" > "$2"; }
render bench/proxy/nginx-backend.conf.tmpl "$WORK/backend.conf"
render bench/proxy/weir.yaml.tmpl "$WORK/new.yaml" $NEW $ADMIN_NEW
render bench/proxy/weir.yaml.tmpl "$WORK/base.yaml" $OLD $ADMIN_OLD
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
wait_port() { for _ in $(seq 1 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; cat "$WORK"/*.log; exit 1; }
wait_port $BACKEND
rss_of() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); printf "%.1f", v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.1f", v } else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.1f", v * 1000 } else print v }'; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
# one round of one weir: name bundle config port flags -> "idle warm peak rps cpu maxms timeouts errors" in $WORK/name.txt
once() {
  local name=$1 flags=$5 pid out peak=0 r idle warm before after
  if [ -n "$flags" ]; then
    env ${6:-} WEIR_NODE_FLAGS="$flags" $ONPROXY "$NODE" "$2" proxy "$3" > "$WORK/$name.log" 2>&1 & pid=$!
  else
    env ${6:-} $ONPROXY "$NODE" "$2" proxy "$3" > "$WORK/$name.log" 2>&1 & pid=$!
  fi
  PIDS+=($pid)
  wait_port "$4"; sleep 2
  idle=$(rss_of $pid)
  $ONLOAD wrk -t1 -c50 -d"$WARM" -H "Host: web" "http://127.0.0.1:$4/" > /dev/null
  warm=$(rss_of $pid); before=$(cpu_ticks $pid)
  DELAY_MS=$PACE $ONLOAD wrk -t1 -c"$CONNS" -d"$DUR" --timeout 4s --latency ${RATE:+-s bench/proxy/pace.lua} \
    -H "Host: web" "http://127.0.0.1:$4/" > "$WORK/wrk.txt" 2>&1 &
  local w=$!
  while kill -0 $w 2>/dev/null; do r=$(rss_of $pid); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1; done
  wait $w || true
  after=$(cpu_ticks $pid)
  kill $pid; wait $pid 2>/dev/null || true
  out=$(cat "$WORK/wrk.txt")
  if echo "$out" | grep -q "Non-2xx"; then echo "$name: non-2xx responses" >&2; fi
  echo "$idle $warm $peak $(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}') \
$(echo "$out" | awk -v t=$(( after - before )) -v hz="$TICK" '/requests in/ {n = $1} END {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}') $(to_ms "$(echo "$out" | awk '$1 == "Latency" {print $4}')") \
$(echo "$out" | awk '/Socket errors/ {gsub(",", ""); print $10; found = 1} END {if (!found) print 0}') \
$(echo "$out" | awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8; found = 1} END {if (!found) print 0}')" >> "$WORK/$name.txt"
}
PACE=$(awk -v c="$CONNS" -v r="${RATE:-0}" 'BEGIN { printf "%d", (r > 0 ? c * 1000 / r : 0) }')
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for r in $(seq 1 "$ROUNDS"); do
  if [ $(( r % 2 )) = 1 ]; then
    once new "$WORK/new.mjs" "$WORK/new.yaml" $NEW "${NEW_FLAGS:-}" "${NEW_ENV:-}"; once base "$WORK/base.mjs" "$WORK/base.yaml" $OLD "${BASE_FLAGS:-}" "${BASE_ENV:-}"
  else
    once base "$WORK/base.mjs" "$WORK/base.yaml" $OLD "${BASE_FLAGS:-}" "${BASE_ENV:-}"; once new "$WORK/new.mjs" "$WORK/new.yaml" $NEW "${NEW_FLAGS:-}" "${NEW_ENV:-}"
  fi
done
echo "== weir ($(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)${NEW_FLAGS:+, flags $NEW_FLAGS}${NEW_ENV:+, $NEW_ENV}) against weir $BASE${BASE_FLAGS:+ (flags $BASE_FLAGS)}${BASE_ENV:+ ($BASE_ENV)}:" \
  "fresh processes, wrk -c50 -d$WARM then wrk -t1 -c$CONNS -d$DUR --timeout 4s${RATE:+ paced to $RATE req/s}, $ROUNDS alternating rounds, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) =="
printf "%-6s %8s %8s %8s %8s %8s %8s %8s %8s\n" "" "idle MB" "warm MB" "peak MB" "req/s" "µs/req" "max ms" ">4 s" "errors"
for n in new base; do
  printf "%-6s" "$n"
  for c in 1 2 3 4 5 6 7 8; do printf " %8s" "$(awk -v c=$c '{print $c}' "$WORK/$n.txt" | median)"; done
  echo "   (peaks: $(awk '{printf "%s ", $3}' "$WORK/$n.txt")req/s: $(awk '{printf "%s ", $4}' "$WORK/$n.txt"))"
done
echo "req/s ratio (median of per-round ratios, new / base): $(paste -d' ' "$WORK/new.txt" "$WORK/base.txt" | awk '{ printf "%.3f\n", $4 / $12 }' | median)"
echo "CPU per request ratio (median of per-round ratios, new / base): $(paste -d' ' "$WORK/new.txt" "$WORK/base.txt" | awk '{ printf "%.3f\n", $5 / $13 }' | median)"

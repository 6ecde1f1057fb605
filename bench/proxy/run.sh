#!/usr/bin/env bash
# Proxy throughput and latency: wrk against an nginx backend on loopback, directly and through
# weir, nginx (as a proxy), node http-proxy and @fastify/http-proxy (and Caddy and HAProxy when they
# are installed), in one run. Usage:
#   npm run bench:proxy                  (ROUNDS=3 DUR=4s CONNS=50 by default)
# Each round runs every target once, in turn, so that load from other processes on a shared
# machine spreads over all of them; the median round is reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-4s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
BACKEND=18080; NGINX=18081; WEIR=18082; HTTPPROXY=18083; FASTIFY=18084; WEIR_DEFAULTS=18085; BARE=18086; RAW=18087; EFFECT=18088
CADDY=18089; HAPROXY=18090; NETPIPE=18091
ADMIN=19990; ADMIN_DEFAULTS=19991
WORK=$(mktemp -d /tmp/weir-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX_BIN" ] || { echo "nginx not found (apt-get install -y wrk nginx)"; exit 1; }
NODE="node_modules/.bin/node"

# CPU pinning (PIN=1, the default, on a machine with 2+ cores and taskset): every proxy under test on
# the last core, wrk and the nginx backend on the others — each proxy gets one core to itself, as
# shared/reference/peers.md recommends for same-box comparisons. PIN=0 lets the scheduler place them.
source bench/pin.sh

render() { sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__PROXY__#$NGINX#g" -e "s#__CADDY__#$CADDY#g" -e "s#__HAPROXY__#$HAPROXY#g" -e "s#__WEIR__#${3:-}#g" -e "s#__ADMIN__#${4:-}#g" "$1" > "$2"; }
render bench/proxy/nginx-backend.conf.tmpl "$WORK/backend.conf"
render bench/proxy/nginx-proxy.conf.tmpl "$WORK/proxy.conf"
render bench/proxy/weir.yaml.tmpl "$WORK/weir.yaml" $WEIR $ADMIN
render bench/proxy/weir.yaml.tmpl "$WORK/weir-defaults.yaml" $WEIR_DEFAULTS $ADMIN_DEFAULTS
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
$ONPROXY "$NGINX_BIN" -p "$WORK" -c "$WORK/proxy.conf" 2>"$WORK/nginx-proxy.err" & PIDS+=($!)
# Caddy and HAProxy when installed (apt-get install -y caddy haproxy), each on the proxies' core
PEERS=()
if command -v caddy >/dev/null; then
  render bench/proxy/Caddyfile.tmpl "$WORK/Caddyfile"
  HOME="$WORK" XDG_DATA_HOME="$WORK" XDG_CONFIG_HOME="$WORK" GOMAXPROCS=1 $ONPROXY caddy run --config "$WORK/Caddyfile" \
    --adapter caddyfile > "$WORK/caddy.log" 2>&1 & PIDS+=($!)
  PEERS+=(caddy)
else
  echo "caddy not installed: no Caddy in this run (apt-get install -y caddy)"
fi
if command -v haproxy >/dev/null; then
  render bench/proxy/haproxy.cfg.tmpl "$WORK/haproxy.cfg"
  $ONPROXY haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 & PIDS+=($!)
  PEERS+=(haproxy)
else
  echo "haproxy not installed: no HAProxy in this run (apt-get install -y haproxy)"
fi

# weir is the real CLI, `weir proxy weir.yaml`, run as a bundle (as deployed: its RSS is not inflated by
# the TypeScript loader); it restarts itself with its default heap flags (docs/config.md)
node_modules/.bin/esbuild src/bin/weir.ts --bundle --platform=node --format=esm --minify-whitespace --log-level=error --external:etcd3 \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile="$WORK/weir.mjs"
node_modules/.bin/esbuild bench/proxy/bare.ts --bundle --platform=node --format=esm --log-level=error \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile="$WORK/bare.mjs"
node_modules/.bin/esbuild bench/proxy/effect-server.ts --bundle --platform=node --format=esm --log-level=error \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile="$WORK/effect-server.mjs"
$ONPROXY "$NODE" "$WORK/weir.mjs" proxy "$WORK/weir.yaml" > "$WORK/weir.log" 2>&1 & WEIR_PID=$!; PIDS+=($WEIR_PID)
$ONPROXY "$NODE" "$WORK/bare.mjs" $BARE $BACKEND > "$WORK/bare.log" 2>&1 & PIDS+=($!)
$ONPROXY "$NODE" "$WORK/effect-server.mjs" $EFFECT $BACKEND > "$WORK/effect-server.log" 2>&1 & PIDS+=($!)
$ONPROXY "$NODE" bench/proxy/undici-raw.mjs $RAW $BACKEND > "$WORK/undici-raw.log" 2>&1 & PIDS+=($!)
$ONPROXY "$NODE" bench/proxy/net-forward.mjs $NETPIPE $BACKEND > "$WORK/net-forward.log" 2>&1 & PIDS+=($!)
$ONPROXY "$NODE" --import tsx bench/proxy/http-proxy.ts $HTTPPROXY $BACKEND > "$WORK/http-proxy.log" 2>&1 & PIDS+=($!)
$ONPROXY "$NODE" --import tsx bench/proxy/fastify.ts $FASTIFY $BACKEND > "$WORK/fastify.log" 2>&1 & PIDS+=($!)

rss_of() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
wait_port() { for _ in $(seq 1 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; exit 1; }
for p in $BACKEND $NGINX $WEIR $HTTPPROXY $FASTIFY $BARE $RAW $EFFECT $NETPIPE; do wait_port $p; done
for n in "${PEERS[@]}"; do if [ "$n" = caddy ]; then wait_port $CADDY; else wait_port $HAPROXY; fi; done
echo "weir RSS idle: $(rss_of $WEIR_PID) MB"

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v } else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 } else print v }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A RPS P50 P99 CPU
# CPU time (user + system, from /proc) of every process listening on a port (nginx: master and worker)
pids_of() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }
# ticks_of PORT FIELDS: their clock ticks, FIELDS of /proc/PID/stat summed ('$14 + $15' user and
# system; '$15' system alone: the kernel's part, the sockets' system calls and the wake-ups they cause)
ticks_of() { local t=0 p; for p in $(pids_of "$1"); do t=$(( t + $(awk "{print $2}" "/proc/$p/stat") )); done; echo $t; }
TICK=$(getconf CLK_TCK)
# per_request TICKS WRK-OUTPUT: µs of CPU per request wrk counted
per_request() { echo "$2" | awk -v t="$1" -v hz="$TICK" '/requests in/ {n=$1} END {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}'; }
once() { # port [extra wrk args] -> "rps p50ms p99ms cpu-µs-per-request sys-µs-per-request"
  local port=$1; shift
  local before; before=$(ticks_of "$port" '$14 + $15')
  local sys_before; sys_before=$(ticks_of "$port" '$15')
  local out; out=$($ONLOAD wrk -t1 -c"$CONNS" -d"$DUR" --latency -H "Host: web" "$@" "http://127.0.0.1:$port/")
  local after; after=$(ticks_of "$port" '$14 + $15')
  local sys_after; sys_after=$(ticks_of "$port" '$15')
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx responses from port $port" >&2; fi
  local cpu; cpu=$(per_request $(( after - before )) "$out")
  local sys; sys=$(per_request $(( sys_after - sys_before )) "$out")
  echo "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}') $(to_ms "$(echo "$out" | awk '$1=="50%" {print $2}')") $(to_ms "$(echo "$out" | awk '$1=="99%" {print $2}')") $cpu $sys"
}
NAMES=(direct weir nginx-proxy http-proxy fastify-http-proxy weir-transport-only effect-http-server undici-raw node-net-pipe "${PEERS[@]}")
declare -A PORT=([direct]=$BACKEND [weir]=$WEIR [nginx-proxy]=$NGINX [http-proxy]=$HTTPPROXY [fastify-http-proxy]=$FASTIFY \
  [weir-transport-only]=$BARE [effect-http-server]=$EFFECT [undici-raw]=$RAW [node-net-pipe]=$NETPIPE [caddy]=$CADDY [haproxy]=$HAPROXY)
# every target must answer with the backend's body ("ok"): one that answers by itself (Caddy does, an
# empty 200, for a Host none of its sites matches) would be measured as a fast proxy
answer_of() { # port -> the raw response to one GET with Host: web
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 0
  printf 'GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n' >&3
  timeout 5 cat <&3 || true
  exec 3<&-
}
for n in "${NAMES[@]}"; do
  answer=$(answer_of "${PORT[$n]}")
  if [[ "$answer" != *$'\r\n\r\nok' ]]; then
    echo "$n (port ${PORT[$n]}) did not pass the backend's answer on; it answered: $(printf '%q' "${answer:0:200}")"
    exit 1
  fi
done
for n in "${NAMES[@]}"; do $ONLOAD wrk -t1 -c"$CONNS" -d1s -H "Host: web" "http://127.0.0.1:${PORT[$n]}/" > /dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  for n in "${NAMES[@]}"; do echo "$(once "${PORT[$n]}")" >> "$WORK/$n.txt"; done
done
echo "== throughput: wrk -t1 -c$CONNS -d$DUR, median of $ROUNDS rounds (loopback, $(nproc) cores, pinned: $PIN) =="
printf "%-22s %10s %10s %10s %12s %8s\n" target "req/s" "p50 ms" "p99 ms" "CPU µs/req" "of it sys"
for n in "${NAMES[@]}"; do
  RPS[$n]=$(awk '{print $1}' "$WORK/$n.txt" | median)
  P50[$n]=$(awk '{print $2}' "$WORK/$n.txt" | median)
  P99[$n]=$(awk '{print $3}' "$WORK/$n.txt" | median)
  CPU[$n]=$(awk '{print $4}' "$WORK/$n.txt" | median)
  SYS=$(awk '{print $5}' "$WORK/$n.txt" | median)
  printf "%-22s %10s %10s %10s %12s %8s   (rounds: %s)\n" "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" "${CPU[$n]}" "$SYS" "$(awk '{printf "%s ", $1}' "$WORK/$n.txt")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "weir / fastify-http-proxy: $(ratio "${RPS[weir]}" "${RPS[fastify-http-proxy]}")x   weir / nginx-proxy: $(ratio "${RPS[weir]}" "${RPS[nginx-proxy]}")x   weir / http-proxy: $(ratio "${RPS[weir]}" "${RPS[http-proxy]}")x"
for n in "${PEERS[@]}"; do echo "weir / $n: $(ratio "${RPS[weir]}" "${RPS[$n]}")x"; done
# per round (each target's runs of one round are seconds apart): steadier than the ratio of medians
for n in nginx-proxy "${PEERS[@]}"; do
  echo "weir / $n per round: $(paste -d' ' "$WORK/weir.txt" "$WORK/$n.txt" | awk '{ printf "%.2f ", $1 / $6 }')"
done
echo "CPU µs per request beyond the node:net pipe: weir $(awk -v a="${CPU[weir]}" -v b="${CPU[node-net-pipe]}" 'BEGIN { printf "%.1f", a - b }'), weir-transport-only $(awk -v a="${CPU[weir-transport-only]}" -v b="${CPU[node-net-pipe]}" 'BEGIN { printf "%.1f", a - b }')"
echo "weir RSS after the runs: $(rss_of $WEIR_PID) MB"

# paced LABEL SUFFIX OFFERED TARGET...: latency at OFFERED req/s (CONNS connections, each paced by
# bench/proxy/pace.lua, PACE=fixed or poisson), directly and through each TARGET, interleaved over
# ROUNDS; medians, and the p99 each target adds over direct
p99_of() { awk '{print $3}' "$WORK/$1.txt" | median; }
# added_p99 LABEL SUFFIX NOTE TARGET...: the median p99 each target adds over direct's, in one line
added_p99() {
  local label=$1 suffix=$2 note=$3; shift 3
  local line="added p99 $label:" n
  for n in "$@"; do
    line+=" $n $(awk -v a="$(p99_of "$n-$suffix")" -v b="$(p99_of "direct-$suffix")" 'BEGIN { printf "%.3f ms", a - b }'),"
  done
  echo "${line%,} ($note)"
}
paced() {
  local label=$1 suffix=$2 offered=$3; shift 3
  local delay; delay=$(awk -v c="$CONNS" -v r="$offered" 'BEGIN { printf "%d", (c * 1000 / r) }')
  echo "== latency at ~$offered req/s offered ($CONNS connections, ${delay} ms pause each, ${PACE:-fixed}), median of $ROUNDS =="
  local r n
  for r in $(seq 1 "$ROUNDS"); do
    for n in direct "$@"; do DELAY_MS=$delay once "${PORT[$n]}" -s bench/proxy/pace.lua >> "$WORK/$n-$suffix.txt"; done
  done
  for n in direct "$@"; do
    printf "%-26s %10s req/s  p50 %s ms  p99 %s ms\n" "$n-$suffix" "$(awk '{print $1}' "$WORK/$n-$suffix.txt" | median)" \
      "$(awk '{print $2}' "$WORK/$n-$suffix.txt" | median)" "$(awk '{print $3}' "$WORK/$n-$suffix.txt" | median)"
  done
  added_p99 "$label" "$suffix" "the same offered load" "$@"
}
# at half of weir's maximum load, and at a fixed RATE (default 5,000 req/s: issue 15's figure, about a
# fifth of weir's maximum here)
paced "at half load" half $(( ${RPS[weir]} / 2 )) weir undici-raw weir-transport-only nginx-proxy
RATE=${RATE:-5000}
paced "at $RATE req/s" rate "$RATE" weir weir-transport-only node-net-pipe nginx-proxy "${PEERS[@]}"
# the same offered load with independent (Poisson) arrivals: wrk's fixed pauses keep the 50 connections
# in step, so the runs above queue each request behind a burst of the others
PACE=poisson paced "at $RATE req/s, Poisson arrivals" poisson "$RATE" weir weir-transport-only node-net-pipe nginx-proxy "${PEERS[@]}"

# open_loop LABEL OFFERED TARGET...: the same with arrivals timed to the microsecond
# (bench/proxy/poisson.c, open loop, latency from each arrival's scheduled time). wrk's timers count
# whole milliseconds, so even its Poisson arrivals come in clumps of about 5 per millisecond at
# 5,000 req/s, which a proxy then serves back to back. Round r uses seed r for every target: each
# target gets the same arrivals.
open_loop() {
  local label=$1 offered=$2; shift 2
  echo "== latency at $offered req/s, Poisson arrivals timed to the microsecond (bench/proxy/poisson.c, $CONNS connections), median of $ROUNDS =="
  local r n out
  for r in $(seq 1 "$ROUNDS"); do
    for n in direct "$@"; do
      out=$($ONLOAD "$WORK/poisson" "${PORT[$n]}" "$offered" "${DUR%s}" "$CONNS" "$r" web 1)
      echo "$out" | awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1); printf "%s %.3f %.3f %.3f %s\n", v["rate"], v["p50"] / 1000, v["p99"] / 1000, v["p99.9"] / 1000, v["errors"] }' \
        >> "$WORK/$n-open.txt"
    done
  done
  for n in direct "$@"; do
    printf "%-26s %10s req/s  p50 %s ms  p99 %s ms  p99.9 %s ms  errors %s   (p99 per round: %s)\n" "$n-open" \
      "$(awk '{print $1}' "$WORK/$n-open.txt" | median)" "$(awk '{print $2}' "$WORK/$n-open.txt" | median)" \
      "$(awk '{print $3}' "$WORK/$n-open.txt" | median)" "$(awk '{print $4}' "$WORK/$n-open.txt" | median)" \
      "$(awk '{ s += $5 } END { print s }' "$WORK/$n-open.txt")" "$(awk '{printf "%s ", $3}' "$WORK/$n-open.txt")"
  done
  added_p99 "$label" open "the same arrivals" "$@"
}
if command -v cc >/dev/null && cc -O2 -o "$WORK/poisson" bench/proxy/poisson.c -lm 2> "$WORK/poisson-build.log"; then
  open_loop "at $RATE req/s, Poisson arrivals timed to the microsecond" "$RATE" weir weir-transport-only node-net-pipe nginx-proxy "${PEERS[@]}"
else
  echo "no C compiler (or poisson.c did not build): no open-loop latency run (apt-get install -y gcc)"
fi

c1000() { # pid port label
  $ONLOAD wrk -t1 -c1000 -d5s -H "Host: web" "http://127.0.0.1:$2/" > "$WORK/wrk-1000-$3.txt" 2>&1 &
  local w=$! peak=0 r
  for _ in $(seq 1 45); do r=$(rss_of "$1"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1; done
  wait $w || true
  printf "%-34s peak RSS %4s MB, %s req/s\n" "$3" "$peak" "$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk-1000-$3.txt")"
}
echo "== 1,000 connections through weir (wrk -c1000 -d5s) =="
c1000 $WEIR_PID $WEIR "weir (after the runs above)"
# the same proxy with node's default heap settings (no restart), fresh
WEIR_NODE_FLAGS="" $ONPROXY "$NODE" "$WORK/weir.mjs" proxy "$WORK/weir-defaults.yaml" > "$WORK/weir-defaults.log" 2>&1 &
DEFAULTS=$!; PIDS+=($DEFAULTS); wait_port $WEIR_DEFAULTS
echo "fresh weir with node's default heap flags: idle $(rss_of $DEFAULTS) MB"
c1000 $DEFAULTS $WEIR_DEFAULTS "fresh weir, node's heap defaults"
echo "weir's node flags: $(tr '\0' ' ' < /proc/$WEIR_PID/cmdline)"

#!/usr/bin/env bash
# HTTP/2 proxy throughput and latency: Debian's h2load against an nginx h2c backend, directly and
# through weir's h2 router (`weir proxy`, the CLI) and through nginx (`grpc_pass`, its only way
# to proxy to an HTTP/2 upstream), in one run. Usage:
#   bash bench/h2/run.sh        (ROUNDS=3 DUR=5 CONNS=10 STREAMS=10 by default)
# Every proxy is pinned to the last core, h2load and the backend to the others (PIN=1, the default).
# Rounds are interleaved: each round runs every target once, in turn, so that load from other
# processes spreads over all of them; the median round is reported. p99 comes from h2load's
# per-request log (--log-file).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-5}
CONNS=${CONNS:-10}
STREAMS=${STREAMS:-10}
ROUNDS=${ROUNDS:-3}
BACKEND=${BACKEND:-18180}; NGINX=$((BACKEND + 1)); WEIR=$((BACKEND + 2)); ADMIN=$((BACKEND + 3)); RAW=$((BACKEND + 4)); BASE=$((BACKEND + 5))
WORK=$(mktemp -d /tmp/weir-bench-h2.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

command -v h2load >/dev/null || { echo "h2load not found (apt-get install -y nghttp2-client nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX_BIN" ] || { echo "nginx not found (apt-get install -y nginx)"; exit 1; }
NODE="node_modules/.bin/node"; [ -x "$NODE" ] || NODE=node

source bench/pin.sh

render() { sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__PROXY__#$NGINX#g" -e "s#__WEIR__#$WEIR#g" -e "s#__ADMIN__#$ADMIN#g" "$1" > "$2"; }
render bench/h2/nginx-backend.conf.tmpl "$WORK/backend.conf"
render bench/h2/nginx-proxy.conf.tmpl "$WORK/proxy.conf"
render bench/h2/weir.yaml.tmpl "$WORK/weir.yaml"
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
$ONPROXY "$NGINX_BIN" -p "$WORK" -c "$WORK/proxy.conf" 2>"$WORK/nginx-proxy.err" & PIDS+=($!); NGINX_PID=$!
# weir is the real CLI, `weir proxy weir.yaml`, as deployed: the esbuild bundle (`npm run build:bin`,
# rebuilt here), or from the sources with tsx when WEIR_TSX=1; WEIR_PROF=DIR writes a CPU profile there
if [ "${WEIR_TSX:-0}" = 1 ]; then WEIR_MAIN=(--import tsx src/bin/weir.ts); else npm run --silent build:bin; WEIR_MAIN=(dist/bin/weir.js); fi
PROF=(); [ -n "${WEIR_PROF:-}" ] && PROF=(--cpu-prof --cpu-prof-dir="$WEIR_PROF")
$ONPROXY "$NODE" ${WEIR_NODE_FLAGS:-} "${PROF[@]}" "${WEIR_MAIN[@]}" proxy "$WORK/weir.yaml" > "$WORK/weir.log" 2>&1 & WEIR_PID=$!; PIDS+=($WEIR_PID)
# WEIR_BASE=path/to/weir.js: another build of weir (an older commit's bundle) as one more target, "weir-base"
if [ -n "${WEIR_BASE:-}" ]; then
  sed -e "s#$WEIR#$BASE#" -e "s#$ADMIN#$((BACKEND + 6))#" "$WORK/weir.yaml" > "$WORK/weir-base.yaml"
  $ONPROXY "$NODE" ${WEIR_NODE_FLAGS:-} "$WEIR_BASE" proxy "$WORK/weir-base.yaml" > "$WORK/weir-base.log" 2>&1 & PIDS+=($!); BASE_PID=$!
fi
# the floor of a Node.js h2 proxy (node:http2 piping, nothing else), to tell node's share from weir's
$ONPROXY "$NODE" bench/h2/node-raw.mjs $RAW $BACKEND > "$WORK/node-raw.log" 2>&1 & PIDS+=($!); RAW_PID=$!

wait_port() { for _ in $(seq 1 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; cat "$WORK"/*.err "$WORK/weir.log"; exit 1; }
NAMES=(direct weir nginx-grpc_pass node-http2-raw)
declare -A PORT=([direct]=$BACKEND [weir]=$WEIR [nginx-grpc_pass]=$NGINX [node-http2-raw]=$RAW)
declare -A PROC=([direct]=0 [weir]=$WEIR_PID [nginx-grpc_pass]=$NGINX_PID [node-http2-raw]=$RAW_PID)
if [ -n "${WEIR_BASE:-}" ]; then NAMES+=(weir-base); PORT[weir-base]=$BASE; PROC[weir-base]=$BASE_PID; fi
for n in "${NAMES[@]}"; do wait_port "${PORT[$n]}"; done

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# CPU time (clock ticks) of a proxy and its children (nginx's worker): a figure that other load on the
# machine disturbs much less than streams/s
cpu_of() { local t=0 p; [ "$1" = 0 ] && { echo 0; return; }
  for p in $1 $(pgrep -P "$1" || true); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
TICK=$(getconf CLK_TCK)
once() { # port name -> "streams/s p50ms p99ms cpu-us/stream"
  local log="$WORK/$2.log.tmp"; rm -f "$log"
  local c0; c0=$(cpu_of "${PROC[$2]}")
  local out; out=$($ONLOAD h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$DUR" --warm-up-time=1 -H ":authority: web" \
    --log-file="$log" "http://127.0.0.1:$1/")
  local failed; failed=$(echo "$out" | awk '/^requests:/ {print $10}')
  local non2xx; non2xx=$(echo "$out" | awk '/^status codes:/ {print $5 + $7 + $9}')
  if [ "${failed:-0}" != "0" ] || [ "${non2xx:-0}" != "0" ]; then echo "$2: $failed failed, $non2xx non-2xx" >&2; fi
  local c1; c1=$(cpu_of "${PROC[$2]}")
  local rps; rps=$(echo "$out" | awk '/^finished in/ {gsub(",", "", $4); printf "%.0f", $4}')
  local done_; done_=$(echo "$out" | awk '/^requests:/ {print $8}')
  local us; us=$(awk -v c=$((c1 - c0)) -v n="$done_" -v t="$TICK" 'BEGIN { if (n > 0 && c > 0) printf "%.0f", c * 1e6 / t / n; else print 0 }')
  local pct; pct=$(awk -F'\t' '$2 == 200 {print $3}' "$log" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f %.3f", a[int(NR * 0.5)] / 1000, a[int(NR * 0.99)] / 1000 }')
  echo "$rps $pct $us"
}
# every target must pass the backend's answer on (a proxy answering by itself would be measured as a
# fast one: bench/proxy's Caddy did, docs/benchmarks.md); nghttp comes with h2load (nghttp2-client)
if command -v nghttp >/dev/null; then
  for n in "${NAMES[@]}"; do
    body=$(timeout 10 nghttp -H ":authority: web" "http://127.0.0.1:${PORT[$n]}/" 2>&1 || true)
    if [ "$body" != "hello from the h2c backend" ]; then
      echo "$n (port ${PORT[$n]}) did not pass the backend's answer on; it answered: $(printf '%q' "${body:0:200}")"
      exit 1
    fi
  done
fi
for n in "${NAMES[@]}"; do $ONLOAD h2load -t1 -c"$CONNS" -m"$STREAMS" -n 2000 -H ":authority: web" "http://127.0.0.1:${PORT[$n]}/" > /dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  for n in "${NAMES[@]}"; do once "${PORT[$n]}" "$n" >> "$WORK/$n.txt"; done
done
echo "== h2load -t1 -c$CONNS -m$STREAMS -D$DUR, median of $ROUNDS interleaved rounds (loopback, $(nproc) cores, pinned: $PIN, load average: $(cut -d' ' -f1-3 /proc/loadavg)) =="
printf "%-18s %10s %10s %10s %14s\n" target "streams/s" "p50 ms" "p99 ms" "cpu µs/stream"
declare -A RPS CPU
for n in "${NAMES[@]}"; do
  RPS[$n]=$(awk '{print $1}' "$WORK/$n.txt" | median)
  CPU[$n]=$(awk '{print $4}' "$WORK/$n.txt" | median)
  printf "%-18s %10s %10s %10s %14s   (rounds: %s)\n" "$n" "${RPS[$n]}" "$(awk '{print $2}' "$WORK/$n.txt" | median)" \
    "$(awk '{print $3}' "$WORK/$n.txt" | median)" "${CPU[$n]}" "$(awk '{printf "%s ", $1}' "$WORK/$n.txt")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
[ -n "${WEIR_BASE:-}" ] && echo "weir / weir-base: $(ratio "${RPS[weir]}" "${RPS[weir-base]}")x   weir-base / nginx-grpc_pass: $(ratio "${RPS[weir-base]}" "${RPS[nginx-grpc_pass]}")x"
echo "weir / nginx-grpc_pass: $(ratio "${RPS[weir]}" "${RPS[nginx-grpc_pass]}")x   node-http2-raw / nginx-grpc_pass: $(ratio "${RPS[node-http2-raw]}" "${RPS[nginx-grpc_pass]}")x   weir / node-http2-raw: $(ratio "${RPS[weir]}" "${RPS[node-http2-raw]}")x"
echo "cpu per stream, nginx-grpc_pass / weir: $(ratio "${CPU[nginx-grpc_pass]}" "${CPU[weir]}")x   node-http2-raw / weir: $(ratio "${CPU[node-http2-raw]}" "${CPU[weir]}")x$([ -n "${WEIR_BASE:-}" ] && echo "   weir-base / weir: $(ratio "${CPU[weir-base]}" "${CPU[weir]}")x")"

#!/usr/bin/env bash
# Bytes of JavaScript heap allocated per routed request, this checkout against git ref REF: a figure
# that other load on a shared machine does not move (CPU time and throughput do, by tens of percent).
# Each `weir proxy` (the CLI bundled from this checkout and from REF, the config of
# bench/proxy/weir.yaml.tmpl) serves N requests from `h2load --h1 -c 50` (Debian's nghttp2-client) after
# a warm-up of N; V8's `--trace-gc-nvp` reports the bytes allocated since the previous collection
# at every collection, summed over the measured requests. Usage:
#   bash bench/proxy/alloc.sh REF        (N=50000 ROUNDS=2 by default)
# NEW_EXTRA (YAML appended to this checkout's config) costs a feature against the same build, e.g.
#   NEW_EXTRA=$'telemetry:\n- {kind: io.l5d.zipkin, sampleRate: 0}' bash bench/proxy/alloc.sh HEAD
# H2LOAD_ARGS adds h2load options, e.g. POSTs of a file's bytes: H2LOAD_ARGS="-d body.bin"
# Repeated runs agree within about 2 % (the bytes of the last collection's partial window).
set -euo pipefail
cd "$(dirname "$0")/../.."
REF=${1:?usage: bench/proxy/alloc.sh REF}
N=${N:-50000}
ROUNDS=${ROUNDS:-2}
BACKEND=18470; PORT=18472; ADMIN=19472
WORK=$(mktemp -d /tmp/weir-alloc.XXXXXX)
PIDS=()
source bench/proxy/lib.sh

command -v h2load >/dev/null || { echo "h2load not found (apt-get install -y nghttp2-client nginx)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NODE="$PWD/node_modules/.bin/node"
bundle_both "$REF"
render() { sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#$PORT#g" -e "s#__ADMIN__#$ADMIN#g" "$1" > "$2"; }
render bench/proxy/nginx-backend.conf.tmpl "$WORK/backend.conf"
render bench/proxy/weir.yaml.tmpl "$WORK/new.yaml"
render bench/proxy/weir.yaml.tmpl "$WORK/old.yaml"
if [ -n "${NEW_EXTRA:-}" ]; then printf '%s\n' "$NEW_EXTRA" >> "$WORK/new.yaml"; fi
"$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
wait_port $BACKEND

once() { # name -> "bytes-per-request collections-per-1000"
  local log="$WORK/$1.log"
  # the proxy's default heap flags (src/cli/Heap.ts), given on the command line so that it does not restart itself
  "$NODE" --max-semi-space-size=2 --max-old-space-size=512 --trace-gc-nvp "$WORK/$1.mjs" proxy "$WORK/$1.yaml" > "$log" 2>&1 &
  local pid=$!
  wait_port $PORT
  kill -0 "$pid" 2>/dev/null || { echo "weir ($1) did not start:" >&2; tail -n 3 "$log" >&2; exit 1; }
  h2load --h1 -n "$N" -c 50 -H ':authority: web' ${H2LOAD_ARGS:-} "http://127.0.0.1:$PORT/" > /dev/null
  local from; from=$(wc -l < "$log")
  h2load --h1 -n "$N" -c 50 -H ':authority: web' ${H2LOAD_ARGS:-} "http://127.0.0.1:$PORT/" > "$WORK/h2load.txt"
  local to; to=$(wc -l < "$log")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -q " $N succeeded" "$WORK/h2load.txt" || { echo "not every request succeeded:" >&2; grep requests: "$WORK/h2load.txt" >&2; exit 1; }
  sed -n "$((from + 1)),${to}p" "$log" | grep -o "allocated=[0-9]*" |
    awk -F= -v n="$N" '{ s += $2; c++ } END { printf "%.0f %.2f\n", s / n, c * 1000 / n }'
}
echo "== bytes allocated per request: weir ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +changes)) against weir $REF, $N requests (h2load --h1 -c 50), $ROUNDS rounds =="
for r in $(seq 1 "$ROUNDS"); do
  read -r nb nc < <(once new); read -r ob oc < <(once old)
  printf "round %d: this checkout %6d B/request (%s collections per 1,000)   %s %6d B/request (%s)   ratio %s\n" \
    "$r" "$nb" "$nc" "$REF" "$ob" "$oc" "$(awk -v a="$nb" -v b="$ob" 'BEGIN { printf "%.3f", a / b }')"
done

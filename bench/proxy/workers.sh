#!/usr/bin/env bash
# `workers: 2` against `workers: 1` (issue 15's goal: at least 1.7× the throughput), each weir given
# its own cores: the one-worker weir pinned to the last core, the two-worker weir to the last two, wrk
# and the nginx backend (one worker per core left) on the others. Needs at least 4 cores: with fewer,
# the load generator and the backend would share the workers' cores and the ratio would say nothing,
# so it says so and exits 2. Usage:
#   bash bench/proxy/workers.sh             (ROUNDS=5 DUR=5s CONNS=200 by default)
# Rounds alternate the two (A, B, B, A, …); it prints each one's median req/s and CPU per request and
# the median of the per-round ratios (two workers / one).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-5s}
CONNS=${CONNS:-200}
ROUNDS=${ROUNDS:-5}
BACKEND=18280; ONE=18282; TWO=18283; ADMIN_ONE=19292; ADMIN_TWO=19293
CORES=$(nproc)
if [ "$CORES" -lt 4 ]; then
  echo "workers.sh needs at least 4 cores (2 for the two workers, 2 for wrk and the backend); this machine has $CORES: not measured"
  exit 2
fi
command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk nginx)"; exit 1; }
command -v taskset >/dev/null || { echo "taskset not found (util-linux)"; exit 1; }
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
NODE="$PWD/node_modules/.bin/node"
WORK=$(mktemp -d /tmp/weir-workers.XXXXXX)
PIDS=()
source bench/proxy/lib.sh

LAST=$(( CORES - 1 ))
LOAD_CORES="0-$(( LAST - 2 ))"
LOAD_COUNT=$(( CORES - 2 ))
bundle . "$WORK/weir.mjs"
sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#^worker_processes 1;#worker_processes $LOAD_COUNT;#" \
  bench/proxy/nginx-backend.conf.tmpl > "$WORK/backend.conf"
render() { sed -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#$1#g" -e "s#__ADMIN__#$2#g" bench/proxy/weir.yaml.tmpl; }
render $ONE $ADMIN_ONE > "$WORK/one.yaml"
{ echo "workers: 2"; render $TWO $ADMIN_TWO; } > "$WORK/two.yaml"
taskset -c "$LOAD_CORES" "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)
taskset -c "$LAST" "$NODE" "$WORK/weir.mjs" proxy "$WORK/one.yaml" > "$WORK/one.log" 2>&1 & PIDS+=($!)
taskset -c "$(( LAST - 1 )),$LAST" "$NODE" "$WORK/weir.mjs" proxy "$WORK/two.yaml" > "$WORK/two.log" 2>&1 & PIDS+=($!)
for p in $BACKEND $ONE $TWO; do wait_port $p; done

# CPU time of every process listening on the port (the primary and, with workers, each worker)
pids_of() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }
cpu_ticks_of() { local t=0 p; for p in $(pids_of "$1"); do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done; echo $t; }
TICK=$(getconf CLK_TCK)
# one run: "req/s µs-of-CPU-per-request"
rps() {
  local before out after
  before=$(cpu_ticks_of "$1")
  out=$(taskset -c "$LOAD_CORES" wrk -t"$LOAD_COUNT" -c"$CONNS" -d"$DUR" -H "Host: web" "http://127.0.0.1:$1/")
  after=$(cpu_ticks_of "$1")
  echo "$out" | awk -v t=$(( after - before )) -v hz="$TICK" '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%.0f %.2f", r, (n > 0 ? t / hz * 1e6 / n : 0)}'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rps $ONE > /dev/null; rps $TWO > /dev/null
for r in $(seq 1 "$ROUNDS"); do
  if [ $(( r % 2 )) = 1 ]; then a=$(rps $ONE); b=$(rps $TWO); else b=$(rps $TWO); a=$(rps $ONE); fi
  echo "$a $b" >> "$WORK/rounds.txt"   # one-rps one-cpu two-rps two-cpu
done
echo "== weir workers: 2 against workers: 1 ($CORES cores: weir on $LAST and $(( LAST - 1 ))-$LAST, wrk -t$LOAD_COUNT -c$CONNS -d$DUR and the backend on $LOAD_CORES), $ROUNDS rounds, load average $(cut -d' ' -f1 /proc/loadavg) =="
echo "workers: 1  $(awk '{print $1}' "$WORK/rounds.txt" | median) req/s, $(awk '{print $2}' "$WORK/rounds.txt" | median) µs CPU/request   (rounds: $(awk '{printf "%s ", $1}' "$WORK/rounds.txt"))"
echo "workers: 2  $(awk '{print $3}' "$WORK/rounds.txt" | median) req/s, $(awk '{print $4}' "$WORK/rounds.txt" | median) µs CPU/request   (rounds: $(awk '{printf "%s ", $3}' "$WORK/rounds.txt"))"
echo "throughput ratio (median of per-round ratios, two / one; issue 15's goal ≥ 1.7): $(awk '{ printf "%.3f\n", $3 / $1 }' "$WORK/rounds.txt" | median)"

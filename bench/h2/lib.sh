# Shared by bench/h2/alloc.sh and bench/h2/alloc-profile.sh (sourced from the repository's root,
# BACKEND and WORK set): the cleanup of what they start (PIDS), node and nginx, the cores (the proxy
# pinned to the last, the load to the others, as bench/h2/run.sh does: how many frames one socket
# read carries changes the count per stream), the nginx h2c backend, and one target to measure.
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
NODE="node_modules/.bin/node"; [ -x "$NODE" ] || NODE=node
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
source bench/pin.sh
sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" bench/h2/nginx-backend.conf.tmpl > "$WORK/backend.conf"
$ONLOAD "$NGINX_BIN" -p "$WORK" -c "$WORK/backend.conf" 2>"$WORK/nginx-backend.err" & PIDS+=($!)

# target_main TARGET PORT CONFIG: the node arguments that run TARGET (a weir bundle, or `raw` for
# bench/h2/node-raw.mjs) on PORT, in MAIN; a bundle gets CONFIG, bench/h2/weir.yaml.tmpl filled in
target_main() {
  if [ "$1" = raw ]; then MAIN=(bench/h2/node-raw.mjs "$2" "$BACKEND"); return; fi
  sed -e "s#__DIR__#$WORK#g" -e "s#__BACKEND__#$BACKEND#g" -e "s#__WEIR__#$2#g" -e "s#__ADMIN__#$(($2 + 1))#g" \
    bench/h2/weir.yaml.tmpl > "$3"
  MAIN=("$1" proxy "$3")
}

# warm PORT: waits for PORT to listen, then 5,000 streams of warm-up
warm() {
  for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && break; sleep 0.1; done
  $ONLOAD h2load -t1 -c10 -m10 -n 5000 -H ":authority: web" "http://127.0.0.1:$1/" > /dev/null
}

# Sourced by the benchmark scripts (bench/proxy, bench/h2, bench/fairness): ONPROXY and ONLOAD, the
# command prefixes that put the proxy under test on the last core and the load generator and the
# backend on the others, so that each proxy has one core to itself (the same-box method
# shared/reference/peers.md recommends). PIN=0, one core, or no taskset: both empty (PIN is then 0),
# and the scheduler places every process.
PIN=${PIN:-1}
LAST=$(( $(nproc) - 1 ))
if [ "$PIN" = 1 ] && [ "$LAST" -ge 1 ] && command -v taskset >/dev/null; then
  ONPROXY="taskset -c $LAST"; ONLOAD="taskset -c 0-$(( LAST - 1 ))"
else
  PIN=0; ONPROXY=""; ONLOAD=""
fi

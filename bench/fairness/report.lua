-- wrk script for bench/fairness/run.sh: prints one machine-readable line after the run with the
-- mean, percentiles and maximum of every request's latency (µs), the requests and the errors, so the
-- script can compute how much longer the slowest request waited than the average one.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FAIR mean_us=%.0f p50_us=%d p99_us=%d p999_us=%d max_us=%d requests=%d errors=%d timeouts=%d\n",
    latency.mean, latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    summary.requests, e.connect + e.read + e.write + e.status, e.timeout))
end

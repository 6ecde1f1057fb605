-- Paces each wrk connection: wait DELAY_MS between requests (fixed offered load for latency runs).
local d = tonumber(os.getenv("DELAY_MS") or "0")
function delay()
  return d
end

-- Paces each wrk connection for latency runs at a fixed offered load: a pause of DELAY_MS between a
-- response and the next request. PACE=fixed (the default) pauses exactly DELAY_MS, so the connections
-- stay in step and their requests arrive together; PACE=poisson draws each pause from an exponential
-- distribution of mean DELAY_MS (seeded: the same run every time), so arrivals are independent, as
-- from many unrelated clients. wrk's timers count whole milliseconds.
local d = tonumber(os.getenv("DELAY_MS") or "0")
local poisson = os.getenv("PACE") == "poisson"
math.randomseed(15)
function delay()
  if poisson then
    return math.floor(-d * math.log(1 - math.random()) + 0.5)
  end
  return d
end

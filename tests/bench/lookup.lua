-- wrk script: GET a random subscription among A-S00000001..A-S<BENCH_N>,
-- with auth on, so every request is a full decision body.
-- For working sets up to 200k the requests are built once, at start: a
-- request built in Lua per call (string.format + wrk.format) was CPU that
-- wrk took from the server on the same two cores. Larger sets (the cold
-- and RSS runs over all 1M ids) build each request on the fly.
local token = os.getenv("BENCH_TOKEN")
local n = tonumber(os.getenv("BENCH_N") or "1000000")
local hdrs = {["Authorization"] = "Bearer " .. tostring(token)}
local built = {}
local function make(i)
  return wrk.format("GET", string.format("/v1/subscriptions/A-S%08d/channel", i), hdrs)
end
init = function(args)
  math.randomseed(os.time())
  if n <= 200000 then
    for i = 1, n do built[i] = make(i) end
  end
end
request = function()
  local i = math.random(n)
  return built[i] or make(i)
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end

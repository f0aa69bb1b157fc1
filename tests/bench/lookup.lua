-- wrk script: GET a random subscription among A-S00000001..A-S<BENCH_N>,
-- with auth on, so every request is a full decision body.
local token = os.getenv("BENCH_TOKEN")
local n = tonumber(os.getenv("BENCH_N") or "1000000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", string.format("/v1/subscriptions/A-S%08d/channel", math.random(n)),
                    {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end

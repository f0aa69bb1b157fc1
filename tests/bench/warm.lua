-- wrk script: visit A-S00000001..A-S<BENCH_N> in order (fills the cache).
local token = os.getenv("BENCH_TOKEN")
local n = tonumber(os.getenv("BENCH_N") or "100000")
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("GET", string.format("/v1/subscriptions/A-S%08d/channel", i),
                    {["Authorization"] = "Bearer " .. token})
end

-- dbwait.lua: what the server itself says about its database waits, under wrk.
-- Reads X-DB-Wait-Us (the time from a query's start to its answer, the
-- server's own clock) of every answer and prints its mean and percentiles,
-- to set beside wrk's Latency lines: the difference is the time outside the
-- wait (reading the request, writing the answer, the kernel and wrk itself).
--
--   wrk -t2 -c1000 -d5s -s loadtest/dbwait.lua 'http://127.0.0.1:8080/db?delay=100'
--
-- Answers without the header (not a /db or /dashboard page) are counted apart.
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   n, sum, missing, hist = 0, 0, 0, {}
end

function response(status, headers, body)
   local us = tonumber(headers["X-DB-Wait-Us"])
   if us then
      n = n + 1
      sum = sum + us
      local k = math.floor(us / 100) -- 0.1 ms buckets
      hist[k] = (hist[k] or 0) + 1
   else
      missing = missing + 1
   end
end

function done(summary, latency, requests)
   local N, S, M, H = 0, 0, 0, {}
   for _, t in ipairs(threads) do
      N = N + t:get("n")
      S = S + t:get("sum")
      M = M + t:get("missing")
      for k, v in pairs(t:get("hist")) do
         H[k] = (H[k] or 0) + v
      end
   end
   if N == 0 then
      io.write(string.format("dbwait: no answer carried X-DB-Wait-Us (%d without it)\n", M))
      return
   end
   local keys = {}
   for k in pairs(H) do
      table.insert(keys, k)
   end
   table.sort(keys)
   local function pct(p)
      local acc = 0
      for _, k in ipairs(keys) do
         acc = acc + H[k]
         if acc >= p * N then
            return (k + 1) / 10 -- the bucket's upper edge, ms
         end
      end
   end
   io.write(string.format("dbwait: %d answers, server's wait mean %.2f ms, p50 %.1f, p99 %.1f, max %.1f ms\n",
                          N, S / N / 1000, pct(0.5), pct(0.99), (keys[#keys] + 1) / 10))
   if M > 0 then
      io.write(string.format("dbwait: %d answers without X-DB-Wait-Us\n", M))
   end
end

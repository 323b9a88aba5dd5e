-- result.lua: makes wrk print one run as one JSON line on stdout, after
-- wrk's own text summary:
--
--   wrk -t2 -c100 -d10s --timeout 5s -s loadtest/result.lua http://127.0.0.1:PORT/db
--
-- {"wrk_result":1,"requests":N,"in_time":N,"duration_us":N,"bytes":N,
--  "errors":{"connect":N,"read":N,"write":N,"status":N,"timeout":N},
--  "latency_us":{"p50":N,"p90":N,"p99":N,"p99.9":N,"max":N,"mean":N,"stdev":N}}
--
-- Only done() is defined: a response() callback would make wrk hand every
-- response to Lua and slow the client down. What wrk counts, and what it
-- leaves out (loadtest/README.md says more):
--   requests      responses completed, whatever their status
--   errors.status responses with a status of 400 or more (still in requests)
--   errors.timeout a response slower than --timeout, or a connection still
--                 waiting longer than that when wrk looks (every 2 s); such a
--                 response is NOT in the latency figures
--   in_time       responses that came within --timeout: the ones in latency_us
--   latency_us    one figure per response that came within --timeout; all
--                 null when there was none
local function num(x)
  -- integers stay integers; NaN and infinities (an empty histogram) are null
  if x ~= x or x == math.huge or x == -math.huge then
    return "null"
  end
  if x == math.floor(x) then
    return string.format("%d", x)
  end
  return string.format("%.1f", x)
end

function done(summary, latency, requests)
  local e = summary.errors
  local in_time = 0
  for i = 1, #latency do -- each distinct value recorded, and how often
    local _, count = latency(i)
    in_time = in_time + count
  end
  local lat
  if latency.max == 0 then
    lat = '{"p50":null,"p90":null,"p99":null,"p99.9":null,"max":null,"mean":null,"stdev":null}'
  else
    lat = string.format('{"p50":%s,"p90":%s,"p99":%s,"p99.9":%s,"max":%s,"mean":%s,"stdev":%s}',
      num(latency:percentile(50)), num(latency:percentile(90)), num(latency:percentile(99)),
      num(latency:percentile(99.9)), num(latency.max), num(latency.mean), num(latency.stdev))
  end
  io.write(string.format(
    '{"wrk_result":1,"requests":%s,"in_time":%s,"duration_us":%s,"bytes":%s,' ..
    '"errors":{"connect":%s,"read":%s,"write":%s,"status":%s,"timeout":%s},"latency_us":%s}\n',
    num(summary.requests), num(in_time), num(summary.duration), num(summary.bytes),
    num(e.connect), num(e.read), num(e.write), num(e.status), num(e.timeout), lat))
end

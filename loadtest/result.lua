-- result.lua: makes wrk print one run as one JSON line on stdout, after
-- wrk's own text summary:
--
--   HTTPMODES_WRK_CONNECTIONS=100 wrk -t2 -c100 -d10s --timeout 5s -s loadtest/result.lua \
--       http://127.0.0.1:PORT/db
--
-- {"wrk_result":1,"requests":N,"in_time":N,"corrected":N,"duration_us":N,"bytes":N,
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
--   corrected     how many samples wrk 4 added to its histogram before done()
--                 (below); null when they could not be taken out
--
-- wrk 4 "corrects" its latency histogram for coordinated omission before it
-- calls done(): with e = duration / (requests / connections), every response
-- that took n >= 2e adds one made-up sample at each of n-e, n-2e, ... (down to
-- just above e). Those samples are no response: counted, they made in_time
-- larger than requests (up to 1.6x in a /hello run) and moved the
-- percentiles. Each made-up sample sits e below a real or made-up one of the
-- same response, so going down the histogram the real count of a value is what
-- is there less what the values e, 2e, ... above it added: taken out exactly.
-- The connections come from HTTPMODES_WRK_CONNECTIONS (the lab sets it; wrk
-- does not tell a script its -c); without it the histogram is used as it is.
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

-- Reading wrk's histogram: latency(i) is the i-th distinct value recorded and
-- how often, and each call scans the histogram from its smallest value (wrk
-- 4.1 has no cheaper way in). So reading it whole costs the sum of the values'
-- distances from the smallest: nothing for a /hello run, minutes for a run
-- whose latencies spread over seconds (it once made the lab kill wrk). Past
-- this budget (in histogram slots scanned; about a second) the histogram is
-- left alone and only wrk's own figures are given.
local SCAN_BUDGET = 1.5e9

-- The histogram as ascending values and their counts, wrk's correction taken
-- out when e is known (e = nil: as it is). Returns values, counts, made-up;
-- nil when it would take too long to read.
local function histogram(latency, e)
  local values, counts, cost = {}, {}, 0
  local low = latency.min
  for i = 1, #latency do
    values[i], counts[i] = latency(i)
    cost = cost + (values[i] - low) + 1
    if cost > SCAN_BUDGET then
      return nil
    end
  end
  if not e or e < 1 then
    return values, counts, nil
  end
  local chain, made_up = {}, 0 -- chain[v % e]: real counts of the values v+e, v+2e, ...
  local real = {}
  for i = #values, 1, -1 do
    local v = values[i]
    local r = v % e
    local added = v > e and (chain[r] or 0) or 0
    if added > counts[i] then -- not wrk's correction after all: leave it be
      return values, counts, nil
    end
    real[i] = counts[i] - added
    made_up = made_up + added
    if v >= 2 * e then
      chain[r] = (chain[r] or 0) + real[i]
    end
  end
  local keep_v, keep_c = {}, {}
  for i = 1, #values do
    if real[i] > 0 then
      keep_v[#keep_v + 1], keep_c[#keep_c + 1] = values[i], real[i]
    end
  end
  return keep_v, keep_c, made_up
end

-- wrk's percentile rule: the smallest value with at least round(p/100 n + 0.5)
-- samples at or below it.
local function percentile(values, counts, n, p)
  local rank, total = math.floor(p / 100 * n + 0.5 + 0.5), 0
  for i = 1, #values do
    total = total + counts[i]
    if total >= rank then
      return values[i]
    end
  end
  return values[#values]
end

function done(summary, latency, requests)
  local e = summary.errors
  local conns = tonumber(os.getenv("HTTPMODES_WRK_CONNECTIONS") or "")
  local interval
  if conns and conns > 0 and math.floor(summary.requests / conns) > 0 then
    interval = math.floor(summary.duration / math.floor(summary.requests / conns))
  end
  local empty = latency.max == 0
  local values, counts, made_up
  if not empty then
    values, counts, made_up = histogram(latency, interval)
  end
  local n, lat = 0, nil
  if empty then
    lat = '{"p50":null,"p90":null,"p99":null,"p99.9":null,"max":null,"mean":null,"stdev":null}'
  elseif not values then -- too wide to read: wrk's figures, and an in_time it cannot exceed
    n = math.max(0, summary.requests - e.timeout)
    lat = string.format('{"p50":%s,"p90":%s,"p99":%s,"p99.9":%s,"max":%s,"mean":%s,"stdev":%s}',
      num(latency:percentile(50)), num(latency:percentile(90)), num(latency:percentile(99)),
      num(latency:percentile(99.9)), num(latency.max), num(latency.mean), num(latency.stdev))
  else
    local sum = 0
    for i = 1, #values do
      n = n + counts[i]
      sum = sum + values[i] * counts[i]
    end
    local mean, sq = sum / n, 0
    for i = 1, #values do
      sq = sq + counts[i] * (values[i] - mean) ^ 2
    end
    local stdev = n > 1 and math.sqrt(sq / (n - 1)) or 0
    lat = string.format('{"p50":%s,"p90":%s,"p99":%s,"p99.9":%s,"max":%s,"mean":%s,"stdev":%s}',
      num(percentile(values, counts, n, 50)), num(percentile(values, counts, n, 90)),
      num(percentile(values, counts, n, 99)), num(percentile(values, counts, n, 99.9)),
      num(values[#values]), num(mean), num(stdev))
  end
  -- exact: in_time and latency_us count real responses only (false: wrk's
  -- made-up samples may be in the percentiles, and in_time is a lower bound)
  local known = conns ~= nil and conns > 0
  local exact = empty or (values ~= nil and known and (made_up ~= nil or interval == nil))
  if not exact then
    n = math.min(n, summary.requests)
  end
  io.write(string.format(
    '{"wrk_result":1,"requests":%s,"in_time":%s,"exact":%s,"corrected":%s,"duration_us":%s,' ..
    '"bytes":%s,"errors":{"connect":%s,"read":%s,"write":%s,"status":%s,"timeout":%s},' ..
    '"latency_us":%s}\n',
    num(summary.requests), num(n), tostring(exact), made_up and num(made_up) or "null",
    num(summary.duration), num(summary.bytes), num(e.connect), num(e.read), num(e.write),
    num(e.status), num(e.timeout), lat))
end

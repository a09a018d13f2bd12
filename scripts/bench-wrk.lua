-- wrk's side of `make bench`'s load cross-check (bench-load --wrk).
--
--   wrk -t T -c C -d Ds --timeout 10s -s scripts/bench-wrk.lua URL -- REQUESTS DELAY_MS OUT T
--
-- REQUESTS is a Lua file written by bench-load: a table of requests signed
-- just before the run ({method, path, headers, body}), one create, look-up or
-- refund each, every create and refund with its own id. Each thread sends its
-- share of them in turn; each connection waits DELAY_MS between requests, so
-- that C connections offer about C × 1000 / DELAY_MS requests per second
-- (wrk has no fixed-rate mode: the rate it reaches is reported beside it).
-- OUT receives the results as JSON. An answer other than HTTP 200 is an error.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local formatted = {}
local at = 0
local delay_ms = 0
-- Globals, read by done() through each thread.
non_200 = 0
first_non_200 = ""
out_path = ""

function init(args)
   local all = dofile(args[1])
   delay_ms = tonumber(args[2])
   out_path = args[3]
   local threads_n = tonumber(args[4])
   for i, r in ipairs(all) do
      if (i - 1) % threads_n == id then
         table.insert(formatted, wrk.format(r.method, r.path, r.headers, r.body))
      end
   end
end

function request()
   at = at % #formatted + 1
   return formatted[at]
end

function delay()
   return delay_ms
end

function response(status, headers, body)
   if status ~= 200 then
      non_200 = non_200 + 1
      if first_non_200 == "" then
         first_non_200 = status .. " " .. string.sub(body or "", 1, 200)
      end
   end
end

local function quoted(s)
   return '"' .. string.gsub(s, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local non_200_total, sample = 0, ""
   for _, thread in ipairs(threads) do
      non_200_total = non_200_total + thread:get("non_200")
      if sample == "" then
         sample = thread:get("first_non_200")
      end
   end
   local e = summary.errors
   local out = io.open(threads[1]:get("out_path"), "w")
   out:write(string.format(
      '{"requests": %d, "duration_us": %d, "non_200": %d, "connect_errors": %d, ' ..
      '"read_errors": %d, "write_errors": %d, "timeouts": %d, "first_non_200": %s, ' ..
      '"latency_ms": {"p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f}}\n',
      summary.requests, summary.duration, non_200_total, e.connect, e.read, e.write,
      e.timeout, quoted(sample),
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
   out:close()
end

-- wrk's side of `make bench`'s load cross-check (bench-load --wrk).
--
--   wrk -t T -c C -d Ds --timeout 10s -s scripts/bench-wrk.lua URL -- REQUESTS DELAY_MS OUT T
--
-- REQUESTS is a file written by bench-load: requests signed just before the
-- run, one per line (method, path, body, then `name: value` headers, separated
-- by tabs), one create, look-up or refund each, every create and refund with
-- its own id. Each thread sends its
-- share of them in turn; each connection waits DELAY_MS on average between
-- requests, so that C connections offer about C × 1000 / DELAY_MS requests
-- per second (wrk has no fixed-rate mode: the rate it reaches is reported).
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

local function split_tabs(line)
   local fields, start = {}, 1
   while true do
      local tab = string.find(line, "\t", start, true)
      if not tab then
         table.insert(fields, string.sub(line, start))
         return fields
      end
      table.insert(fields, string.sub(line, start, tab - 1))
      start = tab + 1
   end
end

function init(args)
   math.randomseed(os.time() + id)
   delay_ms = tonumber(args[2])
   out_path = args[3]
   local threads_n = tonumber(args[4])
   local i = 0
   for line in io.lines(args[1]) do
      if i % threads_n == id then
         local fields = split_tabs(line)
         local headers = {}
         for n = 4, #fields do
            local name, value = string.match(fields[n], "^([^:]+): (.*)$")
            headers[name] = value
         end
         local body = fields[3] ~= "" and fields[3] or nil
         table.insert(formatted, wrk.format(fields[1], fields[2], headers, body))
      end
      i = i + 1
   end
end

function request()
   at = at % #formatted + 1
   return formatted[at]
end

-- Spread around the mean (0.5–1.5×) so the connections do not fall into
-- step and arrive as bursts.
function delay()
   return delay_ms * (0.5 + math.random())
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

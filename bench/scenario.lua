-- One benchmark scenario for wrk (bench/run.py sets it up through the environment).
--
--   BENCH_PATHS     paths to request, comma-separated, taken in turn
--   BENCH_METHOD    GET or POST
--   BENCH_BODY      form body for POST; "{key}" becomes a fresh one-time form key per request
--   BENCH_COOKIE    the logged-in session's Cookie header
--   BENCH_CSRF      the CSRF token (sent as X-CSRFToken, as htmx does)
--   BENCH_HTMX      "1": send HX-Request: true
--   BENCH_REQUESTS  stop once this many responses have arrived (per wrk thread)
--   BENCH_AS_PAGES  "1": each thread (one connection each) is a person at their own pages: it
--                   takes its share of the paths and posts back the `seen` stamp of the form
--                   its last response gave it for that path, as the browser would
--   BENCH_THREADS   the number of wrk threads (for the share of paths)
--   BENCH_SEEN      "path=stamp,...": the stamps of the pages as the reps have them open
--   BENCH_OUT       where done() writes the figures as JSON
--
-- wrk runs for at most its -d; a scenario normally ends earlier, at BENCH_REQUESTS.

local threads = {}

-- wrk's main thread sleeps for the whole -d; a SIGINT wakes it, and it then reports the time
-- really taken. So the thread that reaches its count stops and interrupts wrk, as Ctrl-C would.
local ffi = require("ffi")
ffi.cdef [[
   int getpid(void);
   int kill(int pid, int sig);
]]
local SIGINT = 2

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function split(text, sep)
   local items = {}
   for item in string.gmatch(text or "", "([^" .. sep .. "]+)") do
      table.insert(items, item)
   end
   return items
end

function init(args)
   paths = split(os.getenv("BENCH_PATHS"), ",")
   as_pages = os.getenv("BENCH_AS_PAGES") == "1"
   if as_pages then
      local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
      local mine = {}
      for i, path in ipairs(paths) do
         if (i - 1) % nthreads == ((id or 1) - 1) % nthreads then table.insert(mine, path) end
      end
      if #mine > 0 then paths = mine end
   end
   seen, last_path = {}, nil
   for _, pair in ipairs(split(os.getenv("BENCH_SEEN"), ",")) do
      local path, stamp = string.match(pair, "^(.-)=(%d+)$")
      if path then seen[path] = stamp end
   end
   method = os.getenv("BENCH_METHOD") or "GET"
   body = os.getenv("BENCH_BODY") or ""
   limit = tonumber(os.getenv("BENCH_REQUESTS") or "100")
   local headers = {}
   local cookie = os.getenv("BENCH_COOKIE") or ""
   if cookie ~= "" then headers["Cookie"] = cookie end
   local csrf = os.getenv("BENCH_CSRF") or ""
   if csrf ~= "" then headers["X-CSRFToken"] = csrf end
   if os.getenv("BENCH_HTMX") == "1" then headers["HX-Request"] = "true" end
   if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
   end
   request_headers = headers
   sent, received, bad = 0, 0, 0
   queries_sum, queries_seen, queries_min, queries_max = 0, 0, -1, -1
   math.randomseed(os.time() * 100 + (id or 0))
   run_tag = string.format("%d%06d", id or 0, math.random(0, 999999))
end

function request()
   sent = sent + 1
   local path = paths[(sent - 1) % #paths + 1]
   last_path = path
   local payload = nil
   if method == "POST" then
      payload = string.gsub(body, "{key}", "bench-" .. run_tag .. "-" .. sent)
      if as_pages and seen[path] then payload = payload .. "&seen=" .. seen[path] end
   end
   return wrk.format(method, path, request_headers, payload)
end

function response(status, headers, response_body)
   received = received + 1
   if status >= 400 then bad = bad + 1 end
   if as_pages and last_path then
      seen[last_path] = string.match(response_body or "", 'name="seen" value="(%d+)"')
   end
   local q = tonumber(headers["X-Queries"] or headers["x-queries"] or "")
   if q then
      queries_sum = queries_sum + q
      queries_seen = queries_seen + 1
      if queries_min < 0 or q < queries_min then queries_min = q end
      if q > queries_max then queries_max = q end
   end
   if received == limit then
      wrk.thread:stop()
      ffi.C.kill(ffi.C.getpid(), SIGINT)
   end
end

function done(summary, latency, requests)
   local q_sum, q_seen, q_min, q_max, bad_total = 0, 0, -1, -1, 0
   for _, thread in ipairs(threads) do
      q_sum = q_sum + thread:get("queries_sum")
      q_seen = q_seen + thread:get("queries_seen")
      bad_total = bad_total + thread:get("bad")
      local t_min, t_max = thread:get("queries_min"), thread:get("queries_max")
      if t_min >= 0 and (q_min < 0 or t_min < q_min) then q_min = t_min end
      if t_max > q_max then q_max = t_max end
   end
   local e = summary.errors
   local out = io.open(os.getenv("BENCH_OUT"), "w")
   out:write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
      '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, ' ..
      '"errors_timeout": %d, "bad_status": %d, ' ..
      '"queries_mean": %.3f, "queries_min": %d, "queries_max": %d, "queries_seen": %d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
      latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout, bad_total,
      q_seen > 0 and q_sum / q_seen or -1, q_min, q_max, q_seen))
   out:close()
end

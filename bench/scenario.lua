-- One benchmark scenario for wrk (bench/run.py sets it up through the environment).
--
-- Each wrk thread has one connection and a plan of its own: the requests it sends, in order,
-- one a line of BENCH_PLAN_DIR/<thread>.tsv, "METHOD<tab>PATH<tab>COOKIE<tab>CSRF". So each
-- request can be a different person (their session's cookie) asking for a different page.
--
--   BENCH_PLAN_DIR  the plans, <thread>.tsv for threads 1..BENCH_THREADS
--   BENCH_THREADS   the number of wrk threads (= connections)
--   BENCH_BODY      form body for POST; "{key}" becomes a fresh one-time form key per request
--   BENCH_HTMX      "1": send HX-Request: true
--   BENCH_PAD       what a thread asks for once its plan is done (not measured)
--   BENCH_OUT       where done() writes the figures as JSON
--
-- A thread whose plan is done keeps its connection busy with BENCH_PAD (the baseline's page),
-- not measured, until every thread is done; the last one to finish interrupts wrk, as Ctrl-C
-- would (wrk's main thread sleeps for the whole -d; a SIGINT wakes it and it reports the time
-- really taken). wrk runs for at most its -d. Why not simply stop: gunicorn closes every
-- connection after its response and wrk opens the next one at once, so a stopped thread
-- leaves an idle connection behind; a sync worker accepts it and waits on it, and with four
-- such connections no worker is left for the requests still to be answered.
--
-- Latency is measured here, from the moment wrk asks for a request (just before it writes it)
-- to its response: with one connection per thread the two pair up. Every request's latency is
-- written out, in microseconds, so that bench/run.py takes percentiles over several wrk runs
-- (the dashboards' rounds) as over one.

local threads = {}

local ffi = require("ffi")
ffi.cdef [[
   int getpid(void);
   int kill(int pid, int sig);
   typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
   int clock_gettime(int clock, bench_timespec *now);
]]
local SIGINT = 2
local CLOCK_MONOTONIC = 1
local now = ffi.new("bench_timespec")

local function micros()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
   return tonumber(now.tv_sec) * 1000000 + math.floor(tonumber(now.tv_nsec) / 1000)
end

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function exists(path)
   local f = io.open(path, "r")
   if f then f:close() end
   return f ~= nil
end

function init(args)
   plan_dir = os.getenv("BENCH_PLAN_DIR")
   nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   body = os.getenv("BENCH_BODY") or ""
   local htmx = os.getenv("BENCH_HTMX") == "1"
   plan = {}
   for line in io.lines(plan_dir .. "/" .. id .. ".tsv") do
      local method, path, cookie, csrf = string.match(line, "^(%u+)\t([^\t]+)\t([^\t]*)\t([^\t]*)$")
      local headers = {}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if csrf ~= "" then headers["X-CSRFToken"] = csrf end
      if htmx then headers["HX-Request"] = "true" end
      if method == "POST" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
      table.insert(plan, { method = method, path = path, headers = headers })
   end
   pad = { method = "GET", path = os.getenv("BENCH_PAD") or "/", headers = {} }
   if plan[1] then pad.headers["Cookie"] = plan[1].headers["Cookie"] end
   sent, received, bad, body_bytes, finished = 0, 0, 0, 0, false
   queries_sum, queries_seen, queries_min, queries_max = 0, 0, -1, -1
   latencies, lat, started_at = {}, "", nil
   math.randomseed(os.time() * 100 + id)
   run_tag = string.format("%d%06d", id, math.random(0, 999999))
end

local function all_done()
   for i = 1, nthreads do
      if not exists(plan_dir .. "/" .. i .. ".done") then return false end
   end
   return true
end

local function finish()
   wrk.thread:stop()
   ffi.C.kill(ffi.C.getpid(), SIGINT)
end

function request()
   if finished then return wrk.format(pad.method, pad.path, pad.headers) end
   sent = sent + 1
   local line = plan[math.min(sent, #plan)]
   local payload = nil
   if line.method == "POST" then
      payload = string.gsub(body, "{key}", "bench-" .. run_tag .. "-" .. sent)
   end
   started_at = micros()
   return wrk.format(line.method, line.path, line.headers, payload)
end

function response(status, headers, response_body)
   if finished then
      if all_done() then finish() end
      return
   end
   received = received + 1
   if started_at then table.insert(latencies, micros() - started_at) end
   if status >= 400 then bad = bad + 1 end
   body_bytes = body_bytes + #(response_body or "")
   local q = tonumber(headers["X-Queries"] or headers["x-queries"] or "")
   if q then
      queries_sum = queries_sum + q
      queries_seen = queries_seen + 1
      if queries_min < 0 or q < queries_min then queries_min = q end
      if q > queries_max then queries_max = q end
   end
   if received == #plan or received % 50 == 0 then lat = table.concat(latencies, ",") end
   if received == #plan then
      finished = true
      -- The marker first, then the look: the last thread to finish sees every marker.
      local marker = io.open(plan_dir .. "/" .. id .. ".done", "w")
      marker:close()
      if all_done() then finish() end
   end
end

function done(summary, latency, requests)
   local q_sum, q_seen, q_min, q_max, bad_total, all = 0, 0, -1, -1, 0, {}
   local measured, measured_bytes = 0, 0
   for _, thread in ipairs(threads) do
      measured = measured + thread:get("received")
      measured_bytes = measured_bytes + thread:get("body_bytes")
      q_sum = q_sum + thread:get("queries_sum")
      q_seen = q_seen + thread:get("queries_seen")
      bad_total = bad_total + thread:get("bad")
      local t_min, t_max = thread:get("queries_min"), thread:get("queries_max")
      if t_min >= 0 and (q_min < 0 or t_min < q_min) then q_min = t_min end
      if t_max > q_max then q_max = t_max end
      local t_lat = thread:get("lat")
      if t_lat ~= "" then table.insert(all, t_lat) end
   end
   local e = summary.errors
   local out = io.open(os.getenv("BENCH_OUT"), "w")
   out:write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, ' ..
      '"errors_timeout": %d, "bad_status": %d, ' ..
      '"queries_mean": %.3f, "queries_min": %d, "queries_max": %d, "queries_seen": %d, ' ..
      '"latencies_us": [%s]}\n',
      measured, summary.duration, measured_bytes,
      e.connect, e.read, e.write, e.status, e.timeout, bad_total,
      q_seen > 0 and q_sum / q_seen or -1, q_min, q_max, q_seen, table.concat(all, ",")))
   out:close()
end

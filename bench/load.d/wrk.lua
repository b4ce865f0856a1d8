-- wrk script for bench/load: one fixed request, every non-2xx response counted, and the
-- figures written as one JSON object to $LOAD_OUT.
--   LOAD_METHOD  GET (default) or POST
--   LOAD_BODY    form-encoded body (sent with Content-Type application/x-www-form-urlencoded)
--   LOAD_AUTH    value of the Authorization header (e.g. "Basic ...")
--   LOAD_OUT     where to write the JSON (nothing written when unset)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  sample = ""
  local headers = {}
  local body = os.getenv("LOAD_BODY")
  local auth = os.getenv("LOAD_AUTH")
  if auth and auth ~= "" then headers["Authorization"] = auth end
  if body and body ~= "" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  else
    body = nil
  end
  req = wrk.format(os.getenv("LOAD_METHOD") or "GET", nil, headers, body)
end

function request()
  return req
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local function esc(s)
  return (string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end))
end

function done(summary, latency, requests)
  local out = os.getenv("LOAD_OUT")
  if not out or out == "" then return end
  local bad, first = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local s = t:get("sample") or ""
    if first == "" then first = s end
  end
  local e = summary.errors
  local f = assert(io.open(out, "w"))
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"error_sample":"%s"}\n',
    summary.requests, summary.duration, summary.bytes, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, esc(first)))
  f:close()
end

-- Shared by the scenarios: thread numbering and JSON POSTs.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function post(path, body)
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
end

-- A queue of unspent refresh tokens per thread: each request spends one and the answer
-- brings its successor, so every refresh is a real rotation and none is a replay.
queue = {}
function load_tokens()
  local f = assert(io.open(os.getenv("BENCH_REFRESH_FILE") .. "." .. thread_no))
  for line in f:lines() do queue[#queue + 1] = line end
  f:close()
end

function refresh_request()
  local token = table.remove(queue, 1)
  return post("/api/token/refresh/", '{"refresh":"' .. (token or "exhausted") .. '"}')
end

function keep_successor(body)
  local token = body:match('"refresh"%s*:%s*"([^"]+)"')
  if token then queue[#queue + 1] = token end
end

-- 90 % protected resource, 8 % refresh (real rotations), 2 % login.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local n = 0
local access = "Bearer " .. os.getenv("BENCH_ACCESS")
local login_body = '{"username":"' .. os.getenv("BENCH_USER") .. '","password":"' .. os.getenv("BENCH_PASSWORD") .. '"}'
function init(args) load_tokens() end
function request()
  n = n + 1
  local slot = n % 50
  if slot < 45 then
    return wrk.format("GET", "/protected-resource/", { ["Authorization"] = access })
  elseif slot < 49 or #queue == 0 then
    if #queue > 0 then return refresh_request() end
    return wrk.format("GET", "/protected-resource/", { ["Authorization"] = access })
  end
  return post("/api/token/", login_body)
end
function response(status, headers, body) keep_successor(body) end

dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local n = 0
local run = os.getenv("BENCH_RUN")
function request()
  n = n + 1
  return post("/register/", '{"username":"r' .. run .. "t" .. thread_no .. "n" .. n ..
    '","password":"' .. os.getenv("BENCH_PASSWORD") .. '"}')
end

-- The code flow's exchange: each request spends one authorization code of this thread's
-- pool (made just before the run) with its PKCE verifier; an exhausted pool sends a dead
-- code, which the report counts as non-2xx.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
codes = {}
function init(args)
  local f = assert(io.open(os.getenv("BENCH_CODE_FILE") .. "." .. thread_no))
  for line in f:lines() do codes[#codes + 1] = line end
  f:close()
end
function request()
  local code = table.remove(codes) or "exhausted"
  return wrk.format("POST", "/oauth/token", {
    ["Authorization"] = "Basic " .. os.getenv("BENCH_CLIENT_BASIC"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. os.getenv("BENCH_REDIRECT_URI")
     .. "&code_verifier=" .. os.getenv("BENCH_VERIFIER"))
end

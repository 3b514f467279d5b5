dofile(os.getenv("BENCH_LUA") .. "/common.lua")
function init(args) load_tokens() end
function request() return refresh_request() end
function response(status, headers, body) keep_successor(body) end

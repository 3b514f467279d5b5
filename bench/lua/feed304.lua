-- A service polling the revocation feed with the ETag of its last answer: nothing new.
wrk.method = "GET"
wrk.headers["If-None-Match"] = os.getenv("BENCH_ETAG")

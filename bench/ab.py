#!/usr/bin/env python3
"""Two builds side by side, for a change that should not move a hot path: the same
requests against each, runs alternating A, B, A, B, … so the machine's noise falls on both
alike; medians and the ratio B/A, per scenario and store.

    python3 bench/ab.py OLD_BINARY NEW_BINARY [--scenarios protected,refresh]
        [--stores sqlite,postgres] [--runs 5] [--duration 8] [--connections 64]
        [--a-env NAME=VALUE]... [--b-env NAME=VALUE]...

One binary twice with different settings compares a setting, e.g. group commit off and on:
`bench/ab.py target/release/authenticon target/release/authenticon --a-env
AUTHENTICON_ROTATION_BATCH=1 --scenarios refresh`. `--limit` adds `bench/limit` (the bare
axum server verifying the same token) to the alternation of `protected` and `verify`, and
A's and B's ratios to it (of the medians, and in brackets the median of each run's ratio
to the limit run beside it); it is built first. Each server's log goes to a file, at
the default level unless an `AUTHENTICON_LOG` is given.

Scenarios: `protected` (GET /protected-resource/ with one access token), `verify` (POST
/api/token/verify/ of that token; the limit's reference is its own verify route, the token
in a JSON body as here; `--limit-get` makes it the limit's GET route as before, which
reads no body) and `refresh`
(rotation, each connection spending its own chain of refresh tokens). PostgreSQL is the
test server (`TEST_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/test); each
build gets a database of its own, made and dropped here. Standard library only; wrk from
Debian.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (PASSWORD, SECRET, LimitServer, authenticon_env, ensure_wrk, free_port, http, log,  # noqa: E402
                 refresh_pool, wait_ready, wrk)

PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def psql(sql):
    subprocess.run(["psql", PG_BASE, "-q", "-c", sql], check=True, capture_output=True)


def start(binary, store, side, workdir, extra_env):
    if store == "sqlite":
        db_url = f"sqlite://{workdir}/bench.db"
    else:
        name = f"authenticon_ab_{side}"
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name}")
        db_url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    port = free_port()
    env = {**authenticon_env(db_url), "AUTHENTICON_BIND": f"127.0.0.1:{port}", **extra_env}
    # Logs to a file, as a deployment's go to a file or a pipe (not /dev/null, which costs less).
    with open(Path(workdir) / "server.log", "w") as server_log:
        proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=server_log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/readyz")
    http("POST", url + "/register/", {"username": "benchuser", "password": PASSWORD})
    _, pair = http("POST", url + "/api/token/", {"username": "benchuser", "password": PASSWORD})
    return proc, url, pair["access"]


def stop(proc, store, side):
    proc.terminate()
    proc.wait()
    if store == "postgres":
        psql(f"DROP DATABASE IF EXISTS authenticon_ab_{side}")


def one_run(url, access, scenario, args, workdir, run_no):
    env = {"BENCH_ACCESS": access, "BENCH_RUN": str(run_no)}
    if scenario == "protected":
        return wrk(url, "/protected-resource/", "protected.lua", args.connections, args.duration, env)
    if scenario == "verify":
        return wrk(url, "/api/token/verify/", "verify.lua", args.connections, args.duration, env)
    prefix = Path(workdir) / f"pool{run_no}"
    threads = min(2, args.connections)
    refresh_pool(url, "benchuser", max(4, args.connections // 2 * 2), threads, prefix)
    env["BENCH_REFRESH_FILE"] = str(prefix)
    return wrk(url, "/api/token/refresh/", "refresh.lua", args.connections, args.duration, env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--scenarios", default="protected,refresh")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--a-env", action="append", default=[], help="NAME=VALUE for A's server")
    ap.add_argument("--b-env", action="append", default=[], help="NAME=VALUE for B's server")
    ap.add_argument("--limit", action="store_true", help="alternate the limit server too in `protected` and `verify`")
    ap.add_argument("--limit-get", action="store_true", help="the limit's GET route as verify's reference too")
    args = ap.parse_args()
    ensure_wrk()
    binaries = {"a": args.a, "b": args.b}
    envs = {"a": dict(e.split("=", 1) for e in args.a_env), "b": dict(e.split("=", 1) for e in args.b_env)}
    table = []
    run_no = 0
    if args.limit:
        # Built every time (a no-op when current): an older limit lacks the verify route.
        log("building bench/limit")
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "bench-limit"], check=True)
    limit = LimitServer({"PATH": os.environ["PATH"], "SECRET": SECRET}) if args.limit else None
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory() as da, tempfile.TemporaryDirectory() as db:
            dirs = {"a": da, "b": db}
            servers = {side: start(binaries[side], store, side, dirs[side], envs[side]) for side in ("a", "b")}
            try:
                for scenario in args.scenarios.split(","):
                    sides = ("a", "b", "limit") if limit and scenario != "refresh" else ("a", "b")
                    rates, p99s = {s: [] for s in sides}, {s: [] for s in sides}
                    for i in range(args.runs):
                        for side in sides:
                            # The limit server checks A's token (same secret, same algorithm).
                            url = limit.url if side == "limit" else servers[side][1]
                            access = servers["a" if side == "limit" else side][2]
                            run_no += 1
                            # The limit has both routes; `--limit-get` compares verify with
                            # the GET route (no request body), as this script did before.
                            what = "protected" if side == "limit" and args.limit_get else scenario
                            r = one_run(url, access, what, args, dirs.get(side, da), run_no)
                            assert r["non2xx"] == 0, r
                            rates[side].append(r["rps"])
                            p99s[side].append(r["p99"])
                            log(f"{store} {scenario} run {i + 1} {side}: {r['rps']:,.0f} req/s, p99 {r['p99']:.1f} ms")
                    ma, mb = statistics.median(rates["a"]), statistics.median(rates["b"])
                    pa, pb = statistics.median(p99s["a"]), statistics.median(p99s["b"])
                    table.append((scenario, store, ma, mb, pa, pb, rates))
            finally:
                for side, (proc, _, _) in servers.items():
                    stop(proc, store, side)
    if limit:
        limit.stop()
    print(f"A = {args.a} {' '.join(args.a_env)}\nB = {args.b} {' '.join(args.b_env)}\n")
    print("| scenario | store | A median req/s | B median req/s | B/A | A p99 ms | B p99 ms | A runs | B runs |"
          + (" limit median req/s | A/limit (run by run) | B/limit (run by run) |" if limit else ""))
    print("|---|---|---|---|---|---|---|---|---|" + ("---|---|---|" if limit else ""))
    for scenario, store, ma, mb, pa, pb, rates in table:
        runs = {s: " · ".join(f"{x:,.0f}" for x in sorted(rates[s])) for s in rates}
        line = (f"| {scenario} | {store} | {ma:,.0f} | {mb:,.0f} | {mb / ma:.3f} | {pa:.1f} | {pb:.1f} | "
                f"{runs['a']} | {runs['b']} |")
        if limit:
            ml = statistics.median(rates["limit"]) if "limit" in rates else 0
            # Also the median of each run's ratio to the limit run beside it, which a
            # noisy machine moves less than either median alone.
            paired = {s: statistics.median(x / y for x, y in zip(rates[s], rates["limit"])) for s in ("a", "b")
                      } if ml else {}
            line += (f" {ml:,.0f} | {ma / ml:.2f} ({paired['a']:.2f}) | {mb / ml:.2f} ({paired['b']:.2f}) |"
                     if ml else " | | |")
        print(line)

if __name__ == "__main__":
    main()

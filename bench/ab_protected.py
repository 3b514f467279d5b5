#!/usr/bin/env python3
"""The protected route, two builds side by side: the same requests against each, runs
alternating A, B, A, B, … so the machine's noise falls on both alike; medians and the
ratio B/A. For a change on the protected route's path (a new check per request):

    python3 bench/ab_protected.py OLD_BINARY NEW_BINARY [--runs 5] [--duration 8]

Standard library only; wrk from Debian.
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PASSWORD, SECRET, free_port, http, log, wait_ready, wrk  # noqa: E402


def start(binary, workdir):
    port = free_port()
    env = {"AUTHENTICON_BIND": f"127.0.0.1:{port}", "AUTHENTICON_SECRET_KEY": SECRET,
           "AUTHENTICON_DATABASE_URL": f"sqlite://{workdir}/bench.db", "AUTHENTICON_LOG": "warn",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/readyz")
    http("POST", url + "/register/", {"username": "bench", "password": PASSWORD})
    _, pair = http("POST", url + "/api/token/", {"username": "bench", "password": PASSWORD})
    return proc, url, pair["access"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    rates = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as da, tempfile.TemporaryDirectory() as db:
        servers = {"a": start(args.a, da), "b": start(args.b, db)}
        try:
            for i in range(args.runs):
                for side in ("a", "b"):
                    _, url, access = servers[side]
                    r = wrk(url, "/protected-resource/", "protected.lua", args.connections, args.duration,
                            {"BENCH_ACCESS": access})
                    assert r["non2xx"] == 0, r
                    rates[side].append(r["rps"])
                    log(f"run {i + 1} {side}: {r['rps']:,.0f} req/s")
        finally:
            for proc, _, _ in servers.values():
                proc.terminate()
                proc.wait()
    ma, mb = statistics.median(rates["a"]), statistics.median(rates["b"])
    print(f"A {args.a}: median {ma:,.0f} req/s {sorted(round(x) for x in rates['a'])}")
    print(f"B {args.b}: median {mb:,.0f} req/s {sorted(round(x) for x in rates['b'])}")
    print(f"B/A = {mb / ma:.3f}")


if __name__ == "__main__":
    main()

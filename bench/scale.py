#!/usr/bin/env python3
"""How cost grows: Authenticon on a database seeded with 10k, 100k and 1M users (five
sessions each, four refresh tokens per session of which three are spent and expired — a
busy year's rotations — and ten audit entries per user), on SQLite and on PostgreSQL,
against the same scenarios on an empty database, all in one run.

    make bench-scale                                  # 10k, 100k, 1M; both stores
    python3 bench/scale.py --users 10000 --no-postgres --duration 2 --reps 1   # a quick look

Seeding is plain SQL (recursive CTEs on SQLite, generate_series on PostgreSQL) in one
transaction per table: about a minute per million users. With the largest size it also
times a flush of every expired refresh token while refreshes run beside it. Results are
printed, written to bench/scale-results.json, and the table goes into BENCHMARKS.md by hand.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as common  # noqa: E402  (the shared harness: servers, wrk, pools)

from run import LOGS, PASSWORD, ROOT, http, log, rss_mb, summarize, wrk  # noqa: E402

BIN = str(ROOT / "target" / "release" / "authenticon")
YEAR = 365 * 86400
EVENTS = ["login", "refresh", "refresh", "refresh", "refresh", "refresh", "refresh", "logout", "login_failed",
          "password_changed"]


def env_for(db_url):
    return {**common.authenticon_env(db_url), "AUTHENTICON_REFRESH_TOKEN_LIFETIME": "1d",
            "AUTHENTICON_SUPERUSER_PASSWORD": PASSWORD, "AUTHENTICON_CLEANUP_INTERVAL": "0"}


def cli(env, *args):
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"authenticon {' '.join(args)} failed: {out.stderr[-2000:]}")
    return out


# The seed, written once per store. `:n` users; `:t` now; `:hash` every user's password hash.
SQLITE_SEED = [
    ("users", """WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)
        INSERT INTO users (id, username, username_key, email, password_hash, is_active, is_superuser, date_joined,
                           password_changed_at, email_verified)
        SELECT printf('00000000-0000-4000-8000-%012d', i), 'user' || i, 'user' || i, 'user' || i || '@example.com',
               :hash, 1, 0, :t - :year + (i % :year), :t - :year, 1 FROM s"""),
    ("sessions", """WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n * 5)
        INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip)
        SELECT printf('00000000-0000-4000-9000-%012d', i), printf('00000000-0000-4000-8000-%012d', (i - 1) / 5 + 1),
               :t - 86400 * (4 + i % 20), :t - 600, :t + 86400, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
               '203.0.113.' || (i % 250) FROM s"""),
    # Per session: three spent tokens (each replaced by the next, all expired) and a live one.
    ("refresh_tokens", """WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n * 20)
        INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at, used_at, used_ip, used_user_agent, replaced_by)
        SELECT printf('%032d', i), printf('00000000-0000-4000-9000-%012d', (i - 1) / 4 + 1),
               CASE WHEN (i - 1) % 4 = 3 THEN :t - 600 ELSE :t - 86400 * (4 - (i - 1) % 4) - 3600 END,
               CASE WHEN (i - 1) % 4 = 3 THEN :t + 86400 ELSE :t - 86400 * (3 - (i - 1) % 4) - 3600 END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE :t - 86400 * (4 - (i - 1) % 4) END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE '203.0.113.7' END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE 'Mozilla/5.0' END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE printf('%032d', i + 1) END FROM s"""),
    ("audit_log", """WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n * 10)
        INSERT INTO audit_log (time, event, user_id, username, ip, user_agent, detail)
        SELECT :t - :year + (i * :year) / (:n * 10),
               CASE i % 10 WHEN 0 THEN 'login' WHEN 7 THEN 'logout' WHEN 8 THEN 'login_failed'
                           WHEN 9 THEN 'password_changed' ELSE 'refresh' END,
               printf('00000000-0000-4000-8000-%012d', (i - 1) / 10 + 1), 'user' || ((i - 1) / 10 + 1),
               '203.0.113.7', 'Mozilla/5.0', '{}' FROM s"""),
]

PG_SEED = [
    ("users", """INSERT INTO users (id, username, username_key, email, password_hash, is_active, is_superuser,
                                    date_joined, password_changed_at, email_verified)
        SELECT format('00000000-0000-4000-8000-%s', lpad(i::text, 12, '0')), 'user' || i, 'user' || i,
               'user' || i || '@example.com', :'hash', TRUE, FALSE, :t - :year + (i % :year), :t - :year, TRUE
        FROM generate_series(1::bigint, :n) i"""),
    ("sessions", """INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip)
        SELECT format('00000000-0000-4000-9000-%s', lpad(i::text, 12, '0')),
               format('00000000-0000-4000-8000-%s', lpad(((i - 1) / 5 + 1)::text, 12, '0')),
               :t - 86400 * (4 + i % 20), :t - 600, :t + 86400, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
               '203.0.113.' || (i % 250) FROM generate_series(1::bigint, :n * 5) i"""),
    ("refresh_tokens", """INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at, used_at, used_ip,
                                                      used_user_agent, replaced_by)
        SELECT lpad(i::text, 32, '0'), format('00000000-0000-4000-9000-%s', lpad(((i - 1) / 4 + 1)::text, 12, '0')),
               CASE WHEN (i - 1) % 4 = 3 THEN :t - 600 ELSE :t - 86400 * (4 - (i - 1) % 4) - 3600 END,
               CASE WHEN (i - 1) % 4 = 3 THEN :t + 86400 ELSE :t - 86400 * (3 - (i - 1) % 4) - 3600 END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE :t - 86400 * (4 - (i - 1) % 4) END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE '203.0.113.7' END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE 'Mozilla/5.0' END,
               CASE WHEN (i - 1) % 4 = 3 THEN NULL ELSE lpad((i + 1)::text, 32, '0') END
        FROM generate_series(1::bigint, :n * 20) i"""),
    ("audit_log", """INSERT INTO audit_log (time, event, user_id, username, ip, user_agent, detail)
        SELECT :t - :year + (i * :year) / (:n * 10),
               CASE i % 10 WHEN 0 THEN 'login' WHEN 7 THEN 'logout' WHEN 8 THEN 'login_failed'
                           WHEN 9 THEN 'password_changed' ELSE 'refresh' END,
               format('00000000-0000-4000-8000-%s', lpad(((i - 1) / 10 + 1)::text, 12, '0')),
               'user' || ((i - 1) / 10 + 1), '203.0.113.7', 'Mozilla/5.0', '{}'
        FROM generate_series(1::bigint, :n * 10) i"""),
]


class Store:
    """One seeded database: a SQLite file or a PostgreSQL schema."""

    def __init__(self, kind, work, users):
        self.kind, self.users = kind, users
        if kind == "sqlite":
            self.path = work / f"scale-{users}.db"
            self.url = f"sqlite://{self.path}"
        else:
            self.schema = f"scale_{users}_{os.getpid()}"
            self.psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE; CREATE SCHEMA {self.schema}", schema=False)
            self.url = f"postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D{self.schema}"
        self.env = env_for(self.url)

    def psql(self, sql, schema=True, variables=()):
        argv = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qAt", "-v", "ON_ERROR_STOP=1"]
        for k, v in variables:
            argv += ["-v", f"{k}={v}"]
        if schema:
            sql = f"SET search_path TO {self.schema}; {sql}"
        out = subprocess.run(argv, input=sql, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"psql failed: {out.stderr[-2000:]}")
        return out.stdout.strip()

    def seed(self):
        cli(self.env, "migrate")
        cli(self.env, "createsuperuser", "--no-input", "--username", "root", "--email", "root@example.com")
        if self.users == 0:
            return
        t = int(time.time())
        if self.kind == "sqlite":
            db = sqlite3.connect(self.path)
            (hash_,) = db.execute("SELECT password_hash FROM users WHERE username = 'root'").fetchone()
            db.execute("PRAGMA synchronous = OFF")
            for table, sql in SQLITE_SEED:
                t0 = time.perf_counter()
                with db:
                    db.execute(sql, {"n": self.users, "t": t, "year": YEAR, "hash": hash_})
                log(f"  seeded {table} in {time.perf_counter() - t0:.1f} s")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()
        else:
            hash_ = self.psql("SELECT password_hash FROM users WHERE username = 'root'")
            for table, sql in PG_SEED:
                t0 = time.perf_counter()
                self.psql(f"SET synchronous_commit = off; {sql}",
                          variables=[("n", self.users), ("t", t), ("year", YEAR), ("hash", hash_)])
                log(f"  seeded {table} in {time.perf_counter() - t0:.1f} s")
            # As autovacuum would after such a load; done here so the run does not depend on when.
            self.psql("VACUUM ANALYZE")
        self.check_day_counters()

    def check_day_counters(self):
        """The per-day audit counters the triggers kept while seeding hold what the log does."""
        grouped = ("SELECT event, time / 86400 AS day, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi "
                   "FROM audit_log GROUP BY event, time / 86400")
        kept = "SELECT event, day, SUM(n), MIN(min_id), MAX(max_id) FROM audit_day_counts GROUP BY event, day"
        sql = f"SELECT (SELECT COUNT(*) FROM ({grouped} EXCEPT {kept}) a) + (SELECT COUNT(*) FROM ({kept} EXCEPT {grouped}) b)"
        if self.kind == "sqlite":
            db = sqlite3.connect(self.path)
            (differ,) = db.execute(sql).fetchone()
            db.close()
        else:
            differ = int(self.psql(sql))
        if differ:
            raise SystemExit(f"{self.kind}: {differ} days of the audit counters differ from the log")
        log("  the audit day counters match the log")

    def size_mb(self):
        if self.kind == "sqlite":
            return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*")) / 1e6
        return int(self.psql(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = '{self.schema}' AND c.relkind = 'r'")) / 1e6

    def drop(self):
        if self.kind == "sqlite":
            for p in self.path.parent.glob(self.path.name + "*"):
                p.unlink()
        else:
            self.psql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE", schema=False)


def measure(store, args, work):
    """The scenarios on one seeded store; a dict of results."""
    srv = common.Server(f"scale-{store.kind}-{store.users}", [BIN, "serve"], store.env, "/readyz")
    out = {"users": store.users, "store": store.kind, "db_mb": store.size_mb()}
    try:
        # The user the scenarios act as is in the middle of the table (user 1 when it is empty).
        me = f"user{max(1, store.users // 2)}" if store.users else "bench"
        if not store.users:
            assert http("POST", srv.url + "/register/", {"username": me, "password": PASSWORD})[0] == 201
        status, body = http("POST", srv.url + "/api/token/", {"username": me, "password": PASSWORD})
        assert status == 200, status
        access = body["access"]
        _, body = http("POST", srv.url + "/api/token/", {"username": "root", "password": PASSWORD})
        admin = body["access"]
        # Someone else's session list: their five seeded sessions and this login (on an
        # empty database, a user of its own: the scenarios' user gathers a session per login).
        other = f"user{max(1, store.users // 3)}" if store.users else "other"
        if not store.users:
            assert http("POST", srv.url + "/register/", {"username": other, "password": PASSWORD})[0] == 201
        _, body = http("POST", srv.url + "/api/token/", {"username": other, "password": PASSWORD})
        other_access = body["access"]
        target = f"user{max(1, store.users // 4)}" if store.users else me
        scenarios = [
            ("login", "/api/token/", "login.lua", {"BENCH_USER": me, "BENCH_PASSWORD": PASSWORD}),
            ("refresh", "/api/token/refresh/", "refresh.lua", {}),
            ("protected", "/protected-resource/", "protected.lua", {"BENCH_ACCESS": access}),
            ("user_search", f"/api/users/?search={target}7", "protected.lua", {"BENCH_ACCESS": admin}),
            ("audit_by_user", f"/api/audit/?user={target}", "protected.lua", {"BENCH_ACCESS": admin}),
            ("audit_by_event", "/api/audit/?event=password_changed", "protected.lua", {"BENCH_ACCESS": admin}),
            # The same page with a time range every entry is in: its `count` is counted
            # match by match, as every page's was before the per-event counters.
            ("audit_by_event_counted", "/api/audit/?event=password_changed&since=2000-01-01", "protected.lua",
             {"BENCH_ACCESS": admin}),
            # Ten days half a year back (about 1/36 of the event's entries), with half a
            # year of the event's entries after them: a page that must not read those.
            ("audit_by_event_old", f"/api/audit/?event=password_changed&since={days_ago(200)}&until={days_ago(190)}",
             "protected.lua", {"BENCH_ACCESS": admin}),
            ("session_list", "/api/me/sessions/", "protected.lua", {"BENCH_ACCESS": other_access}),
        ]
        for key, path, script, env in scenarios:
            # Rates at full load; the pages an operator reads, at a console's load (their
            # p99 at 64 connections would be queueing, not the page's cost).
            conns = args.connections if key in ("login", "refresh", "protected") else args.query_connections
            samples = []
            for rep in range(args.reps):
                if script == "refresh.lua":
                    prefix = work / f"pool-{store.kind}-{store.users}-{rep}"
                    common.refresh_pool(srv.url, me, max(4, args.connections), 2, prefix)
                    env = {"BENCH_REFRESH_FILE": str(prefix)}
                samples.append(wrk(srv.url, path, script, conns, args.duration, env))
            r = summarize(samples)
            out[key] = r
            log(f"{store.kind:8} {store.users:>8} users  {key:15} {r['rps']:9.0f} req/s  p50 {r['p50']:.2f} ms  "
                f"p99 {r['p99']:.2f} ms  non-2xx {r['non2xx']}")
        out["rss_mb"] = rss_mb(srv.proc.pid)
        if args.flush and store.users == max(args.sizes):
            out["flush"] = flush_beside_refreshes(store, srv, me, args, work)
    finally:
        srv.stop()
    return out


def flush_only(store, args, work):
    srv = common.Server(f"flush-{store.kind}", [BIN, "serve"], store.env, "/readyz")
    try:
        return flush_beside_refreshes(store, srv, f"user{store.users // 2}", args, work)
    finally:
        srv.stop()


def flush_beside_refreshes(store, srv, me, args, work):
    """Refreshes alone, then beside `flushexpiredtokens` deleting every expired token."""
    expired = store.users * 15
    duration = max(args.duration, 10)
    prefix = work / f"pool-flush-{store.kind}"
    common.refresh_pool(srv.url, me, max(4, args.connections), 2, prefix)
    alone = wrk(srv.url, "/api/token/refresh/", "refresh.lua", args.connections, duration,
                {"BENCH_REFRESH_FILE": str(prefix)})
    common.refresh_pool(srv.url, me, max(4, args.connections), 2, prefix)
    result = {}

    def flush():
        # Stopped once the refreshes beside it are measured: what matters is how it
        # shares the database, and its longest batch so far (from its progress lines).
        t0 = time.perf_counter()
        proc = subprocess.Popen([BIN, "flushexpiredtokens"], env={**store.env, "AUTHENTICON_LOG": "info"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        result["proc"] = proc
        out, err = proc.communicate()
        result["seconds"] = time.perf_counter() - t0
        result["stdout"] = out.strip() or "stopped"
        found = [int(m) for m in re.findall(r"longest_batch_ms=(\d+)", err)]
        result["longest_batch_ms"] = max(found) if found else None
        deleted = re.findall(r"deleted=(\d+)", err)
        result["deleted_when_stopped"] = int(deleted[-1]) if deleted else None
        (LOGS / f"flush-{store.kind}.log").write_text(err)

    t = threading.Thread(target=flush)
    t.start()
    time.sleep(0.5)
    beside = wrk(srv.url, "/api/token/refresh/", "refresh.lua", args.connections, duration,
                 {"BENCH_REFRESH_FILE": str(prefix)})
    result["proc"].terminate()
    t.join()
    result.pop("proc")
    log(f"{store.kind:8} flush of ~{expired:,} expired tokens, stopped after {result['seconds']:.1f} s "
        f"({result['deleted_when_stopped']} deleted by its last progress line), longest batch "
        f"{result['longest_batch_ms']} ms; refresh p99 {alone['p99']:.2f} ms alone, "
        f"{beside['p99']:.2f} ms beside it ({alone['rps']:.0f} vs {beside['rps']:.0f} req/s)")
    return {"expired": expired, **result, "alone": alone, "beside": beside}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", default="10000,100000,1000000", help="comma-separated sizes (0, empty, always runs)")
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64, help="for login, refresh, protected")
    ap.add_argument("--query-connections", type=int, default=8,
                    help="for user search, audit pages and the session list")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-flush", dest="flush", action="store_false", help="skip the flush beside refreshes")
    ap.add_argument("--flush-only", action="store_true", help="seed the largest size only and measure the flush")
    args = ap.parse_args()
    args.sizes = [0] + [int(s) for s in args.users.split(",") if s.strip()]
    if args.flush_only:
        args.sizes = [max(args.sizes)]
    common.ensure_tools(quick=True)
    work = Path(tempfile.mkdtemp(prefix="authenticon-scale-"))
    results = []
    try:
        kinds = ([] if args.no_sqlite else ["sqlite"]) + ([] if args.no_postgres else ["postgres"])
        for kind in kinds:
            for users in args.sizes:
                log(f"{kind}: seeding {users:,} users")
                t0 = time.perf_counter()
                store = Store(kind, work, users)
                store.seed()
                log(f"{kind}: {users:,} users seeded in {time.perf_counter() - t0:.0f} s, {store.size_mb():.0f} MB")
                try:
                    results.append(flush_only(store, args, work) if args.flush_only else measure(store, args, work))
                finally:
                    store.drop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.flush_only:
        return
    (ROOT / "bench" / "scale-results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))


def days_ago(days):
    """The date `days` before today, as the audit filters take it."""
    return (datetime.date.today() - datetime.timedelta(days=days)).isoformat()


def table(results):
    lines = ["| store | users | login/s | refresh/s (p99 ms) | protected/s | user search p99 ms | "
             "audit by user p99 ms | audit by event p99 ms (counted · old range) | session list p99 ms | DB MB | bytes/user | "
             "RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        per_user = f"{r['db_mb'] * 1e6 / r['users']:,.0f}" if r["users"] else "–"
        lines.append(
            f"| {r['store']} | {r['users']:,} | {r['login']['rps']:,.0f} | {r['refresh']['rps']:,.0f} "
            f"({r['refresh']['p99']:.1f}) | {r['protected']['rps']:,.0f} | {r['user_search']['p99']:.1f} | "
            f"{r['audit_by_user']['p99']:.1f} | {r['audit_by_event']['p99']:.1f} "
            f"({r.get('audit_by_event_counted', {}).get('p99', 0):.1f} · "
            f"{r.get('audit_by_event_old', {}).get('p99', 0):.1f}) | {r['session_list']['p99']:.1f} | "
            f"{r['db_mb']:,.0f} | {per_user} | {r['rss_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

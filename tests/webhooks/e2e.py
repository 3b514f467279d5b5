"""End to end: webhooks from the real binary, verified by the Standard Webhooks reference
library (the `standardwebhooks` package) in small receivers on loopback.

1. Delivered and verified: registrations, a login and a logout reach an endpoint
   subscribed to them, in order, each verified by the library; a delivery whose body was
   changed, or signed with another secret, is refused by the same check.
2. Down across a restart: two receivers are down (one not listening, one answering 503)
   while two users cause interleaved events; the first attempt fails (the delivery log
   says so), Authenticon is stopped with SIGTERM (it exits 0 promptly) and started again
   on the same database, the receivers come back: everything arrives, in order, each
   webhook-id once among the successful deliveries, a retry under its first id.
3. Refused for good: a receiver answering 400 makes deliveries dead at once (one
   attempt), later ones still go on; once it accepts, the dead ones are replayed through
   the API and arrive, verified, under their first ids.
4. Stopped in the middle of a slow delivery: a receiver takes 3 s to answer 204;
   about 1 s into a delivery to it Authenticon gets SIGTERM and exits 0 only once the
   receiver has answered (the remaining answer time, not the 30 s limit), the attempt
   recorded: after a restart the log shows it delivered (attempts 1), the next event
   arrives within a few seconds (the endpoint's queue is not held by a lease), and until
   past the end of the lease the receiver has seen each delivery once.

Run from the repository's root: .venv/bin/python tests/webhooks/e2e.py
AUTHENTICON_BIN names the binary (target/debug/authenticon). Prints PASS/FAIL per check;
exits 1 on any failure.
"""
import base64
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parents[2]
# Relative to where the script was started (make runs it from the repository's root).
BIN = Path(os.environ.get("AUTHENTICON_BIN", "target/debug/authenticon")).resolve()
PASSWORD = "a long passphrase for the webhooks e2e"
ROOT_PASSWORD = secrets.token_urlsafe(18)
FIRST_RETRY = 5  # seconds after a failed first attempt (the worker looks every second)
STOP_LIMIT = 5.0  # seconds SIGTERM may take to end the process
INJECTED = "x-e2e-injected"  # marks requests this script sends a receiver itself
SLOW_ANSWER = 3.0  # seconds the slow receiver of scenario 4 takes to answer
INTO_DELIVERY = 1.0  # seconds into that delivery SIGTERM comes
LEASE = 30  # seconds a delivery being sent stays leased (LEASE_SECONDS)
NEXT_LIMIT = 3.0  # seconds the next event may take to arrive after a restart (the worker looks every second)

failures = []
STARTED = time.monotonic()


def check(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}: {name}{f' ({detail})' if detail else ''}", flush=True)
    if not ok:
        failures.append(name)
    return ok


def wait_for(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns something truthy (returned) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# ---- HTTP --------------------------------------------------------------------------------

class Reply:
    def __init__(self, status, body):
        self.status, self.raw = status, body

    @property
    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def __repr__(self):
        return f"{self.status} {self.raw[:300]!r}"


def call(method, url, body=None, token=None, headers=None, raw=None, timeout=10):
    headers = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Reply(r.status, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Reply(e.code, e.read())


# ---- the receiver ------------------------------------------------------------------------

class Receiver:
    """A webhook receiver on 127.0.0.1 that verifies every delivery with the reference
    library and records each request in arrival order. Modes: `up` (204), `unavailable`
    (503), `refusing` (400), `down` (not listening at all; the port is kept for `up`).
    A delivery that fails verification is answered 400, as a real receiver would. With
    `delay` set it answers that many seconds after a request arrives (`answered` records
    when it began to)."""

    STATUS = {"up": 204, "unavailable": 503, "refusing": 400}

    def __init__(self, name):
        self.name = name
        self.secret = None  # known once the endpoint is made
        self.mode = "up"
        self.delay = 0.0
        self.port = 0
        self.server = None
        self.records = []
        self.lock = threading.Lock()
        self.listen()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def listen(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.receive(self, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode):
        if mode == "down":
            if self.server:
                self.server.shutdown()
                self.server.server_close()
                self.server = None
        elif self.server is None:
            self.listen()
        self.mode = mode

    def receive(self, handler, body):
        headers = {k.lower(): v for k, v in handler.headers.items()}
        record = {"at": time.monotonic(), "id": headers.get("webhook-id"), "raw": body, "headers": headers,
                  "injected": INJECTED in headers, "verified": False, "error": ""}
        try:
            payload = Webhook(self.secret).verify(body, headers)
            record["verified"] = True
        except WebhookVerificationError as e:
            record["error"] = f"{type(e).__name__}: {e}"
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {}
        data = payload.get("data") or {}
        record.update(type=payload.get("type"), username=data.get("username"), user_id=data.get("user_id"),
                      audit_id=data.get("audit_id"))
        status = self.STATUS.get(self.mode, 503) if record["verified"] else 400
        record["status"] = status
        with self.lock:
            self.records.append(record)
        if self.delay:
            time.sleep(self.delay)
        record["answered"] = time.monotonic()  # nothing has been answered before this
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def deliveries(self):
        """What Authenticon sent (not what this script injected), in arrival order."""
        with self.lock:
            return [r for r in self.records if not r["injected"]]

    def delivered(self):
        """Those it answered with a 2xx."""
        return [r for r in self.deliveries() if 200 <= r["status"] < 300]

    def close(self):
        self.set("down")


def summary(records):
    return [(r["type"], r["username"]) for r in records]


# ---- Authenticon -------------------------------------------------------------------------

def clean_env(**extra):
    # Settings from the caller's shell must not change what is tested.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHENTICON_")}
    env.update(extra)
    return env


class Authenticon:
    """The real binary on a SQLite database in `work`; `start` again after `stop` serves
    the same database (a restart)."""

    def __init__(self, work):
        self.work = Path(work)
        self.env = clean_env(
            AUTHENTICON_DATABASE_URL=f"sqlite://{self.work}/db.sqlite",
            AUTHENTICON_SECRET_KEY=secrets.token_urlsafe(36),
            AUTHENTICON_BIND="127.0.0.1:0",
            # The receivers are on loopback, which deliveries reach only when allowed.
            AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",
        )
        self.runs = 0
        self.proc = None
        self.logs = []

    def create_superuser(self):
        subprocess.run([str(BIN), "createsuperuser", "--username", "root", "--no-input"],
                       env={**self.env, "AUTHENTICON_SUPERUSER_PASSWORD": ROOT_PASSWORD}, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self.runs += 1
        log_path = self.work / f"authenticon-{self.runs}.log"
        self.logs.append(log_path)
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([str(BIN), "serve"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", log_path.read_text(errors="replace"))
            if found:
                self.url = found.group(1)
                return self.url
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"Authenticon did not start (exit {self.proc.poll()}):\n{self.log_text()[-2000:]}")

    def stop(self, limit=STOP_LIMIT):
        """SIGTERM; (exit status, seconds taken), status None if it had to be killed after
        `limit` s."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            status = None
        self.log.close()
        return status, time.monotonic() - started

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()

    def log_text(self, run=None):
        paths = self.logs if run is None else [self.logs[run - 1]]
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())


class Api:
    def __init__(self, authenticon):
        self.authenticon = authenticon
        self.token = None

    @property
    def base(self):
        return self.authenticon.url

    def login_root(self):
        reply = call("POST", f"{self.base}/api/token/", {"username": "root", "password": ROOT_PASSWORD})
        check("the superuser logs in: 200 with an access token",
              reply.status == 200 and bool((reply.json or {}).get("access")), "" if reply.status == 200 else repr(reply))
        self.token = reply.json["access"]

    def endpoint(self, receiver, events):
        reply = call("POST", f"{self.base}/api/webhooks/", {"url": receiver.url, "events": events,
                                                            "description": f"e2e {receiver.name}"}, self.token)
        body = reply.json or {}
        check(f"endpoint for the {receiver.name} receiver: 201 with a whsec_ secret, events {events}",
              reply.status == 201 and str(body.get("secret", "")).startswith("whsec_")
              and sorted(body.get("events", [])) == sorted(events), repr(reply) if reply.status != 201 else "")
        receiver.secret = body["secret"]
        return body["id"]

    def log(self, endpoint, status=None):
        """The endpoint's delivery log, oldest first."""
        query = f"?page_size=100{f'&status={status}' if status else ''}"
        reply = call("GET", f"{self.base}/api/webhooks/{endpoint}/deliveries/{query}", token=self.token)
        assert reply.status == 200, reply
        return list(reversed(reply.json["results"]))

    def register(self, username):
        reply = call("POST", f"{self.base}/register/", {"username": username, "password": PASSWORD})
        check(f"register {username}: 201", reply.status == 201, "" if reply.status == 201 else repr(reply))
        return reply.json["id"]

    def login(self, username):
        reply = call("POST", f"{self.base}/api/token/", {"username": username, "password": PASSWORD})
        check(f"log in {username}: 200", reply.status == 200, "" if reply.status == 200 else repr(reply))
        return reply.json["refresh"]

    def logout(self, username, refresh):
        reply = call("POST", f"{self.base}/api/token/blacklist/", {"refresh": refresh})
        check(f"log out {username}: 200", reply.status == 200, "" if reply.status == 200 else repr(reply))


# ---- checks shared by the scenarios --------------------------------------------------------

def check_arrivals(what, receiver, expected, ids):
    """The successful deliveries are exactly `expected` [(type, username)], in that order,
    every one verified, with the users' ids, each webhook-id once."""
    got = receiver.delivered()
    check(f"{what}: exactly the expected events, in order", summary(got) == expected,
          f"got {summary(got)}" if summary(got) != expected else f"{len(got)} deliveries")
    bad = [(r["id"], r["error"]) for r in receiver.deliveries() if not r["verified"]]
    check(f"{what}: every delivery verified by standardwebhooks", not bad and bool(got), f"refused: {bad}" if bad else "")
    wrong_ids = [(r["username"], r["user_id"]) for r in got if ids.get(r["username"]) != r["user_id"]]
    check(f"{what}: data.user_id is the user's id", not wrong_ids, f"{wrong_ids}" if wrong_ids else "")
    webhook_ids = [r["id"] for r in got]
    check(f"{what}: each webhook-id once among the successful deliveries (msg_…)",
          len(set(webhook_ids)) == len(webhook_ids) and all(str(i).startswith("msg_") for i in webhook_ids),
          f"{webhook_ids}" if len(set(webhook_ids)) != len(webhook_ids) else "")
    audit_ids = [r["audit_id"] for r in got]
    check(f"{what}: in the order of the audit log (data.audit_id increasing)",
          audit_ids == sorted(audit_ids) and len(set(audit_ids)) == len(audit_ids), f"{audit_ids}")
    return got


def check_per_user_order(what, receiver, expected):
    got = receiver.delivered()
    for user in sorted({u for _, u in expected}):
        mine = [t for t, u in summary(got) if u == user]
        wanted = [t for t, u in expected if u == user]
        check(f"{what}: {user}'s events complete and in order", mine == wanted, f"{mine}")


def wait_delivered(receiver, count, timeout):
    return wait_for(lambda: len(receiver.delivered()) >= count, timeout)


def quiet(receivers, seconds=1.5):
    """Waits a few worker rounds more: nothing further (no duplicate) may come."""
    before = {r.name: len(r.deliveries()) for r in receivers}
    time.sleep(seconds)
    for r in receivers:
        after = len(r.deliveries())
        check(f"{r.name}: nothing more arrives in the next {seconds:.1f} s", after == before[r.name],
              f"{after - before[r.name]} more: {summary(r.deliveries()[before[r.name]:])}" if after != before[r.name]
              else "")


# ---- the scenarios -----------------------------------------------------------------------

def delivered_and_verified(api, ids):
    print("== 1. delivered and verified")
    hook = Receiver("subscriber")
    narrow = Receiver("revocations-only")
    api.endpoint(hook, ["user.created", "session.created", "session.revoked"])
    narrow_id = api.endpoint(narrow, ["session.revoked"])
    ids["alice"] = api.register("alice")
    ids["bob"] = api.register("bob")
    refresh = api.login("alice")
    api.logout("alice", refresh)
    caused = time.monotonic()
    expected = [("user.created", "alice"), ("user.created", "bob"), ("session.created", "alice"),
                ("session.revoked", "alice")]
    wait_delivered(hook, len(expected), 10)
    wait_delivered(narrow, 1, 5)
    print(f"   the four deliveries arrived {hook.delivered()[-1]['at'] - caused:.2f} s after the logout"
          if len(hook.delivered()) >= 4 else "   (not all arrived)")
    check_arrivals("subscriber", hook, expected, ids)
    got = narrow.delivered()
    check("revocations-only endpoint: just alice's session.revoked, verified",
          summary(got) == [("session.revoked", "alice")] and all(r["verified"] for r in got), f"{summary(got)}")
    log = [(d["event"], d["status"], d["attempts"], d["last_status"]) for d in api.log(narrow_id)]
    check("revocations-only endpoint: its log shows it delivered, attempts 1, last_status 204",
          log == [("session.revoked", "delivered", 1, 204)], f"{log}")
    quiet([hook, narrow])

    # The check is real: the library refuses a delivery changed on the way or signed with
    # another secret; the receiver (which verifies with it) answers those 400.
    original = hook.delivered()[0]
    headers = {k: v for k, v in original["headers"].items()
               if k in ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type")}
    try:
        Webhook(hook.secret).verify(original["raw"], headers)
        check("control: the untouched delivery verifies again with the library", True)
    except WebhookVerificationError as e:
        check("control: the untouched delivery verifies again with the library", False, str(e))
    changed = original["raw"].replace(b'"alice"', b'"mallory"')
    wrong_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    forged_signature = Webhook(wrong_secret).sign(original["id"], datetime.now(tz=timezone.utc), original["raw"].decode())
    for what, body, sent_headers in (
        ("a delivery whose body was changed", changed, headers),
        ("a delivery signed with another secret", original["raw"], {**headers, "webhook-signature": forged_signature}),
        ("a delivery under another webhook-id", original["raw"], {**headers, "webhook-id": "msg_replayed"}),
    ):
        try:
            Webhook(hook.secret).verify(body, sent_headers)
            check(f"{what}: refused by the library", False, "it verified")
        except WebhookVerificationError as e:
            check(f"{what}: refused by the library", str(e) == "No matching signature found", str(e))
        reply = call("POST", hook.url, raw=body, headers={**sent_headers, INJECTED: "1"})
        refused = [r for r in hook.records if r["injected"]][-1:]
        check(f"{what}: the receiver answers 400, not verified", reply.status == 400 and refused
              and not refused[0]["verified"], f"{reply.status} {refused[0]['error'] if refused else ''}")
    return hook, expected


def down_across_a_restart(api, authenticon, ids, subscriber, subscriber_expected):
    print("== 2. receivers down across a restart of Authenticon")
    gone = Receiver("not-listening")
    failing = Receiver("answering-503")
    events = ["user.created", "session.created", "session.revoked"]
    gone_id = api.endpoint(gone, events)
    failing_id = api.endpoint(failing, events)
    gone.set("down")
    failing.set("unavailable")

    ids["carol"] = api.register("carol")
    ids["dave"] = api.register("dave")
    carol1 = api.login("carol")
    dave1 = api.login("dave")
    api.logout("carol", carol1)
    carol2 = api.login("carol")  # noqa: F841 - a session left open
    api.logout("dave", dave1)
    expected = [("user.created", "carol"), ("user.created", "dave"), ("session.created", "carol"),
                ("session.created", "dave"), ("session.revoked", "carol"), ("session.created", "carol"),
                ("session.revoked", "dave")]

    # The first attempt fails; the rest wait behind it (in order per endpoint).
    def first_failed():
        logs = {name: api.log(e) for name, e in (("gone", gone_id), ("failing", failing_id))}
        return logs if all(len(l) == len(expected) and l[0]["attempts"] >= 1 for l in logs.values()) else None

    logs = wait_for(first_failed, 5, 0.1)
    if not check("both endpoints: the first attempt has been made and failed", bool(logs)):
        return
    failed_ids = {}
    for name, log, status, error in (("not-listening", logs["gone"], None, None),
                                     ("answering-503", logs["failing"], 503, "answered 503 Service Unavailable")):
        first = log[0]
        failed_ids[name] = first["id"]
        check(f"{name}: the log shows the first delivery pending, attempts 1, last_error set, next attempt due",
              first["status"] == "pending" and first["attempts"] == 1 and bool(first["last_error"])
              and first["last_status"] == status and (error is None or first["last_error"] == error)
              and bool(first["next_attempt"]),
              f"attempts {first['attempts']}, last_status {first['last_status']}, "
              f"last_error {first['last_error']!r}, next_attempt {first['next_attempt']}")
        check(f"{name}: the other {len(log) - 1} wait behind it, pending, not attempted",
              all(d["status"] == "pending" and d["attempts"] == 0 for d in log[1:]),
              f"{[(d['event'], d['status'], d['attempts']) for d in log[1:]]}")
    attempts_503 = failing.deliveries()
    check("answering-503: it saw one attempt, the first event, verified, answered 503",
          [(r["type"], r["username"], r["status"], r["verified"]) for r in attempts_503]
          == [("user.created", "carol", 503, True)], f"{[(r['type'], r['username'], r['status']) for r in attempts_503]}")
    check("answering-503: the attempt's webhook-id is the id in the delivery log",
          bool(attempts_503) and attempts_503[0]["id"] == failed_ids["answering-503"])
    # An endpoint that is up is not held back by the ones that are down.
    wait_delivered(subscriber, len(subscriber_expected) + len(expected), 5)
    check("subscriber (up): it got the same events meanwhile, in order",
          summary(subscriber.delivered()) == subscriber_expected + expected,
          f"{summary(subscriber.delivered())[len(subscriber_expected):]}")

    status, took = authenticon.stop()
    check(f"SIGTERM: Authenticon exits with status 0 within {STOP_LIMIT:.0f} s", status == 0,
          f"status {status} after {took:.2f} s")
    check("SIGTERM: its log says it shut down cleanly", "shut down cleanly" in authenticon.log_text(1))
    authenticon.start()
    print(f"   Authenticon stopped in {took:.2f} s; started again on the same database at {authenticon.url}")
    kept = {name: api.log(e) for name, e in (("not-listening", gone_id), ("answering-503", failing_id))}
    for name, log in kept.items():
        check(f"{name}: after the restart the log still holds all {len(expected)} pending, the first attempted once",
              [d["status"] for d in log] == ["pending"] * len(expected) and [d["attempts"] for d in log]
              == [1] + [0] * (len(expected) - 1), f"{[(d['status'], d['attempts']) for d in log]}")
    gone.set("up")
    failing.set("up")
    back = time.monotonic()
    # The retry comes FIRST_RETRY s after the failed attempt, within a worker round.
    arrived = all(wait_delivered(r, len(expected), 2 * FIRST_RETRY + 30) for r in (gone, failing))
    for r in (gone, failing):
        got = r.delivered()
        if got:
            print(f"   {r.name}: first delivery {got[0]['at'] - back:.2f} s after the receiver came back, "
                  f"all {len(got)} after {got[-1]['at'] - back:.2f} s")
    check("both receivers: everything arrived after they came back", arrived)
    for r in (gone, failing):
        check_arrivals(r.name, r, expected, ids)
        check_per_user_order(r.name, r, expected)
        got = r.delivered()
        check(f"{r.name}: the first success is the retry of the failed attempt (same webhook-id)",
              bool(got) and got[0]["id"] == failed_ids[r.name], f"{got[0]['id'] if got else None} vs {failed_ids[r.name]}")
    check("answering-503: all it saw: the 503 attempt, then each delivery once",
          [(x["id"], x["status"]) for x in failing.deliveries()]
          == [(failed_ids["answering-503"], 503)] + [(x["id"], 204) for x in failing.delivered()],
          f"{[(x['type'], x['username'], x['status']) for x in failing.deliveries()]}")
    for name, endpoint in (("not-listening", gone_id), ("answering-503", failing_id)):
        log = api.log(endpoint)
        check(f"{name}: the log: all delivered, the first after 2 attempts, the rest after 1, last_status 204",
              [(d["status"], d["attempts"], d["last_status"]) for d in log]
              == [("delivered", 2, 204)] + [("delivered", 1, 204)] * (len(expected) - 1),
              f"{[(d['status'], d['attempts'], d['last_status']) for d in log]}")
    quiet([gone, failing, subscriber])
    check_arrivals("subscriber, across the restart", subscriber, subscriber_expected + expected, ids)
    return [gone, failing]


def refused_for_good(api, ids):
    print("== 3. a receiver refusing for good: dead letters, replayed")
    hook = Receiver("refusing")
    endpoint = api.endpoint(hook, ["user.created", "session.created"])
    hook.set("refusing")
    ids["erin"] = api.register("erin")
    ids["frank"] = api.register("frank")
    dead = wait_for(lambda: len(api.log(endpoint, "dead")) >= 2 and api.log(endpoint, "dead"), 6, 0.1)
    dead_events = [(d["event"], d["payload"]["data"]["username"], d["status"]) for d in dead or []]
    check("both deliveries dead (the second went on after the first died)",
          dead_events == [("user.created", "erin", "dead"), ("user.created", "frank", "dead")], f"{dead_events}")
    check("the dead ones: attempts 1, last_status 400, last_error 'answered 400 Bad Request', no next attempt",
          bool(dead) and all(d["attempts"] == 1 and d["last_status"] == 400 and d["next_attempt"] is None
                             and d["last_error"] == "answered 400 Bad Request" for d in dead),
          f"{[(d['attempts'], d['last_status'], d['last_error'], d['next_attempt']) for d in dead or []]}")
    tried = hook.deliveries()
    check("the receiver saw each once, verified, and answered 400",
          [(r["type"], r["username"], r["status"], r["verified"]) for r in tried]
          == [("user.created", "erin", 400, True), ("user.created", "frank", 400, True)],
          f"{[(r['type'], r['username'], r['status'], r['verified']) for r in tried]}")
    dead_ids = [d["id"] for d in dead or []]
    check("their webhook-ids are those in the log", [r["id"] for r in tried] == dead_ids)
    quiet([hook])

    hook.set("up")
    api.login("erin")
    wait_delivered(hook, 1, 5)
    got = hook.delivered()
    check("a later event goes on despite the dead ones: erin's session.created delivered",
          summary(got) == [("session.created", "erin")], f"{summary(got)}")

    if not dead_ids:
        return [hook]
    reply = call("POST", f"{api.base}/api/webhooks/{endpoint}/deliveries/{dead_ids[0]}/replay/", token=api.token)
    check("replay one dead delivery: 200 {replayed: 1}", reply.status == 200 and reply.json == {"replayed": 1},
          repr(reply))
    reply = call("POST", f"{api.base}/api/webhooks/{endpoint}/replay/", token=api.token)
    check("replay all dead: 200 {replayed: 1} (the other one)", reply.status == 200 and reply.json == {"replayed": 1},
          repr(reply))
    replayed_at = time.monotonic()
    wait_delivered(hook, 3, 6)
    got = hook.delivered()
    if len(got) >= 3:
        print(f"   the replayed deliveries arrived {got[-1]['at'] - replayed_at:.2f} s after the replay")
    check("replayed: erin's then frank's user.created arrive",
          summary(got[1:]) == [("user.created", "erin"), ("user.created", "frank")], f"{summary(got)}")
    check("replayed: verified by the library, under their first webhook-ids",
          [(r["id"], r["verified"]) for r in got[1:]] == [(i, True) for i in dead_ids],
          f"{[(r['id'], r['verified'], r['error']) for r in got[1:]]}")
    wrong_ids = [(r["username"], r["user_id"]) for r in got if ids.get(r["username"]) != r["user_id"]]
    check("replayed: data.user_id is the user's id", not wrong_ids, f"{wrong_ids}" if wrong_ids else "")
    log = api.log(endpoint)
    check("the log: none dead, all three delivered",
          sorted((d["event"], d["payload"]["data"]["username"], d["status"]) for d in log)
          == [("session.created", "erin", "delivered"), ("user.created", "erin", "delivered"),
              ("user.created", "frank", "delivered")] and api.log(endpoint, "dead") == [],
          f"{[(d['event'], d['status'], d['attempts']) for d in log]}")
    quiet([hook])
    return [hook]


def stopped_mid_delivery(api, authenticon, ids):
    print("== 4. SIGTERM in the middle of a slow delivery")
    hook = Receiver("slow")
    hook.delay = SLOW_ANSWER
    endpoint = api.endpoint(hook, ["user.created"])
    ids["grace"] = api.register("grace")
    if not check("slow receiver: grace's user.created arrives", bool(wait_for(hook.deliveries, 5))):
        return [hook]
    first = hook.deliveries()[0]
    time.sleep(max(0.0, first["at"] + INTO_DELIVERY - time.monotonic()))
    run = authenticon.runs
    signalled = time.monotonic()
    # A limit past the server's own (30 s), so that a shutdown that waits too long shows
    # how long it took rather than being cut short.
    status, took = authenticon.stop(limit=40)
    answered = first.get("answered")
    remaining = answered - signalled if answered else None
    print(f"   SIGTERM {signalled - first['at']:.2f} s into the delivery; the receiver answered "
          f"{'' if remaining is None else f'{remaining:.2f} s '}after it; Authenticon exited after {took:.2f} s")
    check("SIGTERM mid-delivery: Authenticon exits with status 0", status == 0, f"status {status} after {took:.2f} s")
    check("SIGTERM mid-delivery: it exits only after the receiver answered, within 1 s of the answer (not after 30 s)",
          remaining is not None and remaining <= took <= remaining + 1.0,
          f"answered {'never' if remaining is None else f'{remaining:.2f} s'} after SIGTERM, exited after {took:.2f} s")
    log = authenticon.log_text(run)
    check("SIGTERM mid-delivery: its log says it shut down cleanly, without giving up on the delivery",
          "shut down cleanly" in log and "gave up waiting for webhook" not in log,
          "; ".join(re.findall(r".*(?:gave up|shut down).*", log)[-2:]))

    authenticon.start()
    print(f"   started again on the same database at {authenticon.url}")
    log = [(d["id"], d["event"], d["status"], d["attempts"], d["last_status"]) for d in api.log(endpoint)]
    check("after the restart the log shows the delivery delivered, attempts 1, last_status 204, "
          "under the webhook-id the receiver saw", log == [(first["id"], "user.created", "delivered", 1, 204)],
          f"{log}")

    ids["heidi"] = api.register("heidi")
    caused = time.monotonic()
    wait_for(lambda: len(hook.deliveries()) >= 2, 10)
    nxt = hook.deliveries()[1:2]
    after = nxt[0]["at"] - caused if nxt else None
    check(f"the next event (heidi's user.created) arrives within {NEXT_LIMIT:.0f} s of the registration, "
          f"not held behind a lease",
          after is not None and after <= NEXT_LIMIT and (nxt[0]["type"], nxt[0]["username"]) == ("user.created", "heidi"),
          f"{'not in 10 s' if after is None else f'after {after:.2f} s'}")
    wait_for(lambda: all("answered" in r for r in hook.deliveries()), SLOW_ANSWER + 2)

    # A delivery left leased (its attempt not recorded) would go again once the lease
    # ran out, at most LEASE s after it was claimed, in the worker's next round.
    until = first["at"] + LEASE + 2.5
    time.sleep(max(0.0, until - time.monotonic()))
    print(f"   watched the receiver until {until - first['at']:.1f} s after the first delivery arrived "
          f"(its lease: {LEASE} s)")
    seen = [(r["type"], r["username"], r["id"], r["status"], r["verified"]) for r in hook.deliveries()]
    expected = [("user.created", "grace", first["id"], 204, True)]
    if nxt:
        expected.append(("user.created", "heidi", nxt[0]["id"], 204, True))
    check("slow receiver: past the lease it has seen grace's and heidi's user.created once each, verified, "
          "answered 204, distinct webhook-ids",
          len(seen) == 2 and seen == expected and first["id"] != (nxt[0]["id"] if nxt else None),
          f"{[(t, u, i, s) for t, u, i, s, _ in seen]}")
    log = [(d["event"], d["payload"]["data"]["username"], d["status"], d["attempts"], d["last_status"])
           for d in api.log(endpoint)]
    check("the log: both delivered, attempts 1, last_status 204",
          log == [("user.created", "grace", "delivered", 1, 204), ("user.created", "heidi", "delivered", 1, 204)],
          f"{log}")
    return [hook]


def main():
    os.chdir(ROOT)
    work = tempfile.mkdtemp(prefix="authenticon-webhooks-")
    authenticon = Authenticon(work)
    receivers = []
    try:
        authenticon.create_superuser()
        authenticon.start()
        print(f"== Authenticon at {authenticon.url}")
        api = Api(authenticon)
        api.login_root()
        ids = {}
        subscriber, expected = delivered_and_verified(api, ids)
        receivers.append(subscriber)
        receivers += down_across_a_restart(api, authenticon, ids, subscriber, expected) or []
        receivers += refused_for_good(api, ids)
        receivers += stopped_mid_delivery(api, authenticon, ids)
        status, took = authenticon.stop()
        check("at the end, SIGTERM: exit status 0", status == 0, f"status {status} after {took:.2f} s")
        log = authenticon.log_text()
        check("Authenticon's logs show no panic nor error", not re.search(r"panicked| ERROR ", log),
              "; ".join(re.findall(r".*(?:panicked| ERROR ).*", log)[:3]))
    except Exception as e:  # noqa: BLE001 - reported as a failure, with the cause
        import traceback

        traceback.print_exc()
        check("the run went to its end", False, f"{type(e).__name__}: {e}")
    finally:
        authenticon.kill()
        for r in receivers:
            r.close()
        if failures:
            print(f"---- Authenticon log (tail) ----\n{authenticon.log_text()[-3000:]}")
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - STARTED
    print(f"{'FAIL' if failures else 'PASS'}: webhooks e2e, {len(failures)} failed check(s), {elapsed:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

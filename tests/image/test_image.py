"""The container image, run as an operator would run it (`make test-image`).

With the host's network and a read-only root filesystem, the image is started
  (a) on its own SQLite volume, and
  (b) on the local host's PostgreSQL and Redis, the settings and the signing secret given as
      files (Podman secrets: AUTHENTICON_CONFIG and AUTHENTICON_SECRET_KEY_FILE),
as the README shows it (no capabilities, no new privileges), and each time: /readyz
answers, the health check passes, register → token → refresh → protected resource work,
the process runs as the image's non-root user, a SIGTERM stops it cleanly within the
grace period (exit 0, "shut down cleanly"), no secret reaches the log, and after a restart
the same user logs in and the access token issued before it still verifies (data and
secret kept). Then (c) deploy/compose.yaml is started with podman-compose, as written,
beside its settings file. Prints the image's size; exits 1 on any failure.

Run from the repository's root (after `make image`):
    .venv/bin/python tests/image/test_image.py authenticon:<version>
Environment: CONTAINER (default podman), DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/test; a database of its own is made beside it),
REDIS_URL (default redis://127.0.0.1:6379/0).
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = os.environ.get("CONTAINER", "podman").split()
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct-Horse-battery-9"
GRACE = 35  # seconds, as the README tells operators to give it
SIZE_TARGET = 40 * 1000 * 1000

failures = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)
    return ok


def container(*args, check_rc=True, timeout=120):
    out = subprocess.run(CONTAINER + list(args), capture_output=True, text=True, timeout=timeout)
    if check_rc and out.returncode != 0:
        # The command only, not its arguments: they may hold a database URL.
        raise RuntimeError(f"{' '.join(CONTAINER + list(args[:1]))} failed ({out.returncode}):\n{out.stderr}")
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_ready(base, name, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if call("GET", f"{base}/readyz")[0] == 200:
                return True
        except OSError:
            pass
        state = container("inspect", "--format", "{{.State.Status}}", name, check_rc=False).stdout.strip()
        if state in ("exited", "stopped"):
            return False
        time.sleep(0.25)
    return False


def four_calls(base, username):
    """The four basic calls: register, obtain a pair, refresh, a protected resource."""
    status, body = call("POST", f"{base}/register/", {"username": username, "password": PASSWORD})
    check(f"{username}: register answers 201", status == 201, f"{status} {body}")
    status, pair = call("POST", f"{base}/api/token/", {"username": username, "password": PASSWORD})
    check(f"{username}: token answers 200 with a pair", status == 200 and "refresh" in pair, f"{status} {pair}")
    status, rotated = call("POST", f"{base}/api/token/refresh/", {"refresh": pair["refresh"]})
    check(f"{username}: refresh answers 200", status == 200 and "access" in rotated, f"{status} {rotated}")
    status, body = call("GET", f"{base}/protected-resource/", token=rotated["access"])
    check(f"{username}: protected resource knows the user", status == 200 and body["user"]["username"] == username,
          f"{status} {body}")
    return rotated["access"]


def stop_cleanly(name):
    started = time.monotonic()
    container("stop", "--time", str(GRACE), name, timeout=GRACE + 30)
    took = time.monotonic() - started
    code = container("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    logs = container("logs", name).stderr + container("logs", name).stdout
    check(f"{name}: SIGTERM stops it with exit 0 within the grace period",
          code == "0" and took < GRACE and "shut down cleanly" in logs,
          f"exit {code} after {took:.1f}s\n{logs[-2000:]}")
    print(f"      stopped in {took:.2f} s", flush=True)
    return logs


# How the README runs it: read-only, no capabilities, no new privileges, a stop timeout.
HARDENED = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--stop-timeout", str(GRACE)]


def run_scenario(image, label, env, extra_args, volume_args, never_logged):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    name = f"authenticon-test-{label}-{secrets.token_hex(3)}"
    env = {**env, "AUTHENTICON_BIND": f"127.0.0.1:{port}"}
    args = ["run", "-d", "--name", name, "--network", "host", *HARDENED, *volume_args, *extra_args]
    for k, v in env.items():
        args += ["-e", f"{k}={v}"]
    try:
        container(*args, image)
        if not check(f"{label}: /readyz answers 200", wait_ready(base, name),
                     container("logs", name, check_rc=False).stderr[-2000:]):
            return
        health = container("healthcheck", "run", name, check_rc=False)
        check(f"{label}: the image's health check passes", health.returncode == 0, health.stdout + health.stderr)
        users = container("top", name, "user", check_rc=False).stdout.split()[1:]
        check(f"{label}: every process runs as the image's user (10001), not root",
              users and set(users) == {"authenticon"}, users)
        access = four_calls(base, f"alice_{label}")
        logs = stop_cleanly(name)
        leaked = [s[:8] + "…" for s in [PASSWORD, access, *never_logged] if s in logs]
        check(f"{label}: no password, token or secret in the log", not leaked, leaked)
        container("start", name)
        if not check(f"{label}: ready again after a restart", wait_ready(base, name)):
            return
        status, pair = call("POST", f"{base}/api/token/", {"username": f"alice_{label}", "password": PASSWORD})
        check(f"{label}: the user is still there after the restart", status == 200, f"{status} {pair}")
        status, body = call("POST", f"{base}/api/token/verify/", {"token": access})
        check(f"{label}: a token issued before the restart still verifies (secret kept)", status == 200,
              f"{status} {body}")
        stop_cleanly(name)
    finally:
        container("rm", "-f", "--time", "0", name, check_rc=False)


def psql(url, sql):
    return subprocess.run(["psql", "-qtA", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def image_size(image):
    return int(container("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())


def compose(image, settings):
    """deploy/compose.yaml, as written, in a folder of its own beside its settings file
    (readable by the image's user only); the image and port come from the environment."""
    exe = shutil.which("podman-compose") or str(Path(sys.executable).parent / "podman-compose")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as project:
        shutil.copy(ROOT / "deploy" / "compose.yaml", project)
        toml = Path(project, "authenticon.toml")
        toml.write_text(settings)
        os.chmod(toml, 0o400)
        os.chown(toml, 10001, 10001)
        env = {**os.environ, "AUTHENTICON_IMAGE": image, "AUTHENTICON_PORT": str(port)}
        files = ["-f", str(Path(project, "compose.yaml")), "-p", f"authenticon-test-{secrets.token_hex(3)}"]
        up = subprocess.run([exe, *files, "up", "-d"], cwd=project, env=env, capture_output=True, text=True,
                            timeout=180)
        try:
            if not check("compose: podman-compose up starts it", up.returncode == 0, up.stdout + up.stderr):
                return
            deadline = time.monotonic() + 60
            ready = False
            while time.monotonic() < deadline and not ready:
                try:
                    ready = call("GET", f"{base}/readyz")[0] == 200
                except OSError:
                    pass
                time.sleep(0 if ready else 0.25)
            if check("compose: /readyz answers 200 on the loopback port", ready):
                four_calls(base, "alice_compose")
        finally:
            down = subprocess.run([exe, *files, "down", "-t", str(GRACE)], cwd=project, env=env,
                                  capture_output=True, text=True, timeout=180)
            check("compose: podman-compose down stops it", down.returncode == 0, down.stdout + down.stderr)


def volume_files(volume):
    """Mode and owner of the files the SQLite scenario left in its volume."""
    path = Path(container("volume", "inspect", "--format", "{{.Mountpoint}}", volume).stdout.strip())
    mode = lambda p: (oct(p.stat().st_mode & 0o777), p.stat().st_uid)  # noqa: E731
    return {".": mode(path), **{p.name: mode(p) for p in path.iterdir()}}


def ca_bundle(image):
    """The image's CA bundle, copied out of a container that never starts."""
    cid = container("create", image).stdout.strip()
    try:
        with tempfile.TemporaryDirectory() as d:
            container("cp", f"{cid}:/etc/ssl/certs/ca-certificates.crt", d)
            return Path(d, "ca-certificates.crt").read_text()
    finally:
        container("rm", "-f", cid, check_rc=False)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    image = sys.argv[1]
    size = image_size(image)
    print(f"image {image}: {size / 1e6:.1f} MB", flush=True)
    check(f"the image is under {SIZE_TARGET / 1e6:.0f} MB", size < SIZE_TARGET, f"{size} bytes")
    tag = image.rsplit(":", 1)[-1]
    version = container("run", "--rm", "--network", "none", image, "--version").stdout.strip()
    check("the binary in the image is the tagged version", version == f"authenticon {tag}", version)
    config = json.loads(container("image", "inspect", image).stdout)[0]["Config"]
    check("the image runs as a non-root user by default", config.get("User") == "10001:10001", config.get("User"))
    health = container("image", "inspect", "--format", "{{json .HealthCheck}}", image).stdout.strip()
    check("the image's HEALTHCHECK runs the binary itself (no shell, no curl)",
          (json.loads(health) or {}).get("Test") == ["CMD", "/usr/local/bin/authenticon", "healthcheck"], health)

    bundle = ca_bundle(image)
    mozilla = sorted(Path("/usr/share/ca-certificates/mozilla").glob("*.crt"))
    local = [p.read_text().strip() for p in Path("/usr/local/share/ca-certificates").glob("*.crt")]
    check("the image trusts the Mozilla CA set and nothing this host added",
          bundle.count("BEGIN CERTIFICATE") == len(mozilla) > 100 and not any(c in bundle for c in local),
          f"{bundle.count('BEGIN CERTIFICATE')} certificates, {len(mozilla)} in the Mozilla set")

    # (a) SQLite on a named volume.
    volume = f"authenticon-test-{secrets.token_hex(3)}"
    container("volume", "create", volume)
    try:
        run_scenario(image, "sqlite", {}, [], ["-v", f"{volume}:/data"], [])
        files = volume_files(volume)
        check("sqlite: the volume belongs to the image's user (uid 10001)", files["."][1] == 10001, files)
        check("sqlite: the generated secret is kept in the volume, mode 0600, uid 10001",
              files.get("authenticon.db.secret") == ("0o600", 10001), files)
        check("sqlite: the database is in the volume, mode 0600, uid 10001",
              files.get("authenticon.db") == ("0o600", 10001), files)
    finally:
        container("volume", "rm", "-f", volume, check_rc=False)

    # (b) PostgreSQL and Redis of this machine. The URLs come in a settings file, the
    # signing secret in a file of its own, both as Podman secrets only uid 10001 may read.
    db = f"authenticon_image_{secrets.token_hex(3)}"
    psql(DATABASE_URL, f"CREATE DATABASE {db}")
    pg_url = urllib.parse.urlunsplit(urllib.parse.urlsplit(DATABASE_URL)._replace(path=f"/{db}"))
    settings = f'database_url = "{pg_url}"\nredis_url = "{REDIS_URL}"\n'
    signing_secret = secrets.token_hex(32)
    names = {"config": f"authenticon-config-{secrets.token_hex(3)}", "key": f"authenticon-key-{secrets.token_hex(3)}"}
    with tempfile.TemporaryDirectory() as d:
        Path(d, "config").write_text(settings)
        Path(d, "key").write_text(signing_secret)
        for kind, name in names.items():
            container("secret", "create", name, str(Path(d, kind)))
    try:
        env = {
            "AUTHENTICON_CONFIG": f"/run/secrets/{names['config']}",
            "AUTHENTICON_SECRET_KEY_FILE": f"/run/secrets/{names['key']}",
        }
        # With a read-only root, Podman mounts secrets only onto a writable /run/secrets.
        mounts = ["--tmpfs", "/run/secrets"]
        for name in names.values():
            mounts += ["--secret", f"{name},uid=10001,mode=0400"]
        # No volume: with PostgreSQL nothing is kept in the container.
        run_scenario(image, "postgres", env, mounts, [], [signing_secret])
        # (c) deploy/compose.yaml, on the same database.
        compose(image, settings + f'secret_key = "{secrets.token_hex(32)}"\n')
        # Both wrote to PostgreSQL, not to a SQLite file of their own.
        users = psql(pg_url, "SELECT string_agg(username, ',' ORDER BY username) FROM users")
        check("postgres, compose: the users are in PostgreSQL", users == "alice_compose,alice_postgres", users)
    finally:
        for name in names.values():
            container("secret", "rm", name, check_rc=False)
        psql(DATABASE_URL, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    print(f"{'FAILED' if failures else 'OK'}: image {image}, {size / 1e6:.1f} MB, {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

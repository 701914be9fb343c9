"""`make prod-local`: docker-compose.yml's topology as processes on 127.0.0.1, started and stopped by one command.

    python deploy/prod_local.py start [--port-base N] [--pg-prefix P]
                                         nginx (TLS, deploy/nginx/default.conf.template) -> two Daphne processes,
                                         two `run_worker`, a private Redis, PostgreSQL primary + streaming replica
                                         (initdb / pg_basebackup; the Daphnes read from the replica); migrated,
                                         static files collected, demo seeded; prints the HTTPS URL and the demo logins
    python deploy/prod_local.py stop     stops every process and removes the clusters, Redis and nginx files
    python deploy/prod_local.py status   prints the state (JSON) and exits 1 when the topology is not running
    python deploy/prod_local.py restart daphne1|daphne2
                                         starts that Daphne again on its port (after a crash, a kill or a
                                         SIGTERM) and waits until it is ready

Everything runs with production settings (DJANGO_ENV=production, NUM_PROXIES=1, X-Accel media) but the demo
seeding, which refuses production: it runs with development settings on the same database. The state (ports,
process ids, URLs) is in var/prod-local/state.json; logs in var/prod-local/logs/. Ports: a block of 7 free ones
from --port-base (28400; make's PROD_LOCAL_PORT_BASE) up, in steps of 10: HTTP, HTTPS, Daphne 1 and 2, Redis,
primary, replica. The clusters live in a temporary folder (prefix --pg-prefix, `thebot-prod-local-pg-`; make's
PROD_LOCAL_PG_PREFIX) owned by the `postgres` user when run as root (initdb refuses root). Limits and timeouts are
deploy/.env.example's, as compose's are deploy/.env's.
"""

import argparse
import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess  # nosec B404  # starts the topology's own processes, with argument lists
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import render_nginx  # noqa: E402

STATE_DIR = ROOT / "var" / "prod-local"
STATE = STATE_DIR / "state.json"
LOGS = STATE_DIR / "logs"
PORT_NAMES = ("http", "https", "daphne1", "daphne2", "redis", "primary", "replica")
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"prod-local: {message}", flush=True)


def run(command: list, *, env: dict | None = None, as_postgres: bool = False, timeout: float = 600) -> str:
    command = [str(part) for part in command]
    if as_postgres and os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(  # nosec B603  # argument list, no shell
        command, env=env, cwd=ROOT if not as_postgres else "/", capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def spawn(name: str, command: list, env: dict | None = None) -> int:
    """A detached process (its own session, outliving this script); output in logs/<name>.log. Its pid."""
    LOGS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"{name}.log").open("ab") as out:
        process = subprocess.Popen(  # nosec B603  # argument list, no shell
            [str(part) for part in command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours (never here: the processes outlive this script) would count as alive.
    return True


# What each process's command line holds: a pid recorded in the state is signalled only while it still runs that
# program (a pid reused by another process after a crash is left alone).
PROGRAMS = {"nginx": "nginx", "redis": "redis-server", "daphne": "config.server", "worker": "run_worker"}


def ours(name: str, pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return alive(pid)  # no /proc: trust the recorded pid
    return PROGRAMS[name.rstrip("0123456789")] in command


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_ports(base: int) -> dict[str, int]:
    for start in range(base, base + 1000, 10):
        block = list(range(start, start + len(PORT_NAMES)))
        if all(port_free(port) for port in block):
            return dict(zip(PORT_NAMES, block, strict=True))
    raise RuntimeError(f"no block of {len(PORT_NAMES)} free ports from {base}")


def wait_for(what: str, check, timeout: float = 60, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)


def http_ok(url: str, headers: dict | None = None) -> bool:
    import httpx

    try:
        return httpx.get(url, headers=headers or {}, timeout=2, verify=False).status_code == 200  # nosec B501  # noqa: S501
    except httpx.HTTPError:
        return False


def redis_answers(port: int) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


# --- PostgreSQL --------------------------------------------------------------------------------------------------
def pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_basebackup") and shutil.which("initdb")
    if not found:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are missing")
    return Path(found).parent


def pg_options(root: Path, port: int) -> str:
    return f"-p {port} -k {root} -c listen_addresses=127.0.0.1"


def pg_start(state: dict, name: str) -> None:
    root, port = Path(state["pg_root"]), state["ports"][name]
    data = root / name
    command = [Path(state["pg_bin"]) / "pg_ctl", "-D", data, "-l", root / f"{name}.log"]
    run([*command, "-o", pg_options(root, port), "-w", "-t", "120", "start"], as_postgres=True)


def pg_stop(state: dict, name: str) -> None:
    data = Path(state["pg_root"]) / name
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(RuntimeError):
            run([Path(state["pg_bin"]) / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], as_postgres=True)


def start_postgres(state: dict, prefix: str) -> None:
    import psycopg

    bin_dir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    state |= {"pg_bin": str(bin_dir), "pg_root": str(root)}
    save(state)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary, replica = root / "primary", root / "replica"
    log(f"PostgreSQL primary (initdb) on port {state['ports']['primary']} in {root}")
    run(
        [bin_dir / "initdb", "-D", primary, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        as_postgres=True,
    )
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write("\n# prod-local: a primary streaming to one replica\nwal_level = replica\nmax_wal_senders = 5\n")
    pg_start(state, "primary")
    url = f"postgres://postgres@127.0.0.1:{state['ports']['primary']}"
    with psycopg.connect(url + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE thebot")
    log(f"PostgreSQL replica (pg_basebackup, streaming) on port {state['ports']['replica']}")
    source = ["-h", "127.0.0.1", "-p", state["ports"]["primary"], "-U", "postgres"]
    copy = ["-D", replica, "-R", "-X", "stream", "-c", "fast", "--no-sync", "-C", "-S", "prod_local_replica"]
    run([bin_dir / "pg_basebackup", *source, *copy], as_postgres=True)
    pg_start(state, "replica")

    def streaming() -> bool:
        with psycopg.connect(url + "/postgres", autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").fetchone()[0] > 0

    wait_for("the replica to stream", streaming)
    state["database_url"] = url + "/thebot"
    state["replica_url"] = f"postgres://postgres@127.0.0.1:{state['ports']['replica']}/thebot"


# --- the application ---------------------------------------------------------------------------------------------
def app_env(state: dict, **extra: str) -> dict:
    https = state["ports"]["https"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))}
    env |= {
        "THEBOT_DOTENV": "0",  # a developer's .env changes nothing here
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": state["secret_key"],
        "DEBUG": "0",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"https://localhost:{https},https://127.0.0.1:{https}",
        "DATABASE_URL": state["database_url"],
        "REDIS_URL": f"redis://127.0.0.1:{state['ports']['redis']}/0",
        "CACHE_KEY_PREFIX": state["cache_prefix"],
        "NUM_PROXIES": "1",
        "MEDIA_ROOT": str(STATE_DIR / "media"),
        "PRIVATE_FILES_X_ACCEL": "1",
        "REQUEST_MAX_BODY_SIZE": state["limits"]["REQUEST_MAX_BODY_SIZE"],
        "SECURE_HSTS_SECONDS": state["limits"]["SECURE_HSTS_SECONDS"],
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


def manage(state: dict, *args: str, **extra: str) -> str:
    return run([PYTHON, "manage.py", *args], env=app_env(state, **extra))


def start_nginx(state: dict) -> None:
    folder = STATE_DIR / "nginx"
    tls = STATE_DIR / "tls"
    run(["sh", HERE / "selfsigned-cert.sh", tls, "localhost", "127.0.0.1"])
    ports = state["ports"]
    values = {
        "THEBOT_UPSTREAM": "thebot_web",  # the upstream group below (two Daphne processes), no DNS
        "NGINX_RESOLVER": "127.0.0.1",
        "LISTEN_HTTP": f"127.0.0.1:{ports['http']}",
        "LISTEN_HTTPS": f"127.0.0.1:{ports['https']}",
        "HTTPS_PORT": str(ports["https"]),
        "TLS_CERT": str(tls / "fullchain.pem"),
        "TLS_KEY": str(tls / "privkey.pem"),
        "MEDIA_ROOT": str(STATE_DIR / "media"),
        "NGINX_LOG_DIR": str(LOGS),
        **state["limits"],
    }
    upstreams = {"thebot_web": [f"127.0.0.1:{ports['daphne1']}", f"127.0.0.1:{ports['daphne2']}"]}
    conf = render_nginx.write(folder, values, upstreams)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    run([nginx, "-t", "-q", "-e", folder / "error.log", "-p", folder, "-c", conf])
    state["pids"]["nginx"] = spawn(
        "nginx", [nginx, "-e", folder / "error.log", "-p", folder, "-c", conf, "-g", "daemon off;"]
    )
    save(state)
    wait_for("nginx", lambda: http_ok(f"http://127.0.0.1:{ports['http']}/nginx-health"))


def compose_limits() -> dict[str, str]:
    """The limits and timeouts of deploy/.env.example (NAME=VALUE lines), nginx's and the application's."""
    values = {}
    for line in (HERE / ".env.example").read_text().splitlines():
        name, _, value = line.partition("=")
        if value and not line.startswith("#"):
            values[name.strip()] = value.strip()
    names = ("REQUEST_MAX_BODY_SIZE", "HTTP_TIMEOUT", "WS_IDLE_TIMEOUT", "SECURE_HSTS_SECONDS")
    return {name: values[name] for name in names}


def start(state: dict, port_base: int, pg_prefix: str) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    (STATE_DIR / "media").mkdir(exist_ok=True)
    state |= {
        "ports": choose_ports(port_base),
        "pids": {},
        "secret_key": secrets.token_urlsafe(64),
        "cache_prefix": "prodlocal-" + secrets.token_hex(3),
        # Limits and timeouts: one value each, for nginx and the application.
        "limits": compose_limits(),
    }
    save(state)
    ports = state["ports"]
    log(f"Redis on port {ports['redis']}")
    redis_dir = STATE_DIR / "redis"
    redis_dir.mkdir(exist_ok=True)
    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    options = ["--port", ports["redis"], "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", redis_dir]
    state["pids"]["redis"] = spawn("redis", [redis_server, *options, "--daemonize", "no"])
    save(state)
    wait_for("Redis", lambda: redis_answers(ports["redis"]))
    start_postgres(state, pg_prefix)
    save(state)
    log("migrate, collectstatic")
    manage(state, "migrate", "--noinput")
    manage(state, "collectstatic", "--noinput", "--verbosity", "0")
    log("seed_demo (development settings: it refuses production) on the same database")
    logins_file = STATE_DIR / "demo_logins.json"
    seeded = manage(state, "seed_demo", "--output", str(logins_file), DJANGO_ENV="development")
    state["demo_logins_file"] = str(logins_file)
    for index in (1, 2):
        port = ports[f"daphne{index}"]
        state["pids"][f"daphne{index}"] = spawn(f"daphne{index}", daphne_command(port), daphne_env(state))
        state["pids"][f"worker{index}"] = spawn(f"worker{index}", [PYTHON, "manage.py", "run_worker"], app_env(state))
        save(state)
    for index in (1, 2):
        url = f"http://127.0.0.1:{ports[f'daphne{index}']}/api/health/ready/"
        wait_for(f"daphne{index} ready", lambda url=url: http_ok(url, {"Host": "localhost"}), timeout=120)
    start_nginx(state)
    state["url"] = f"https://localhost:{ports['https']}/"
    state["http_url"] = f"http://localhost:{ports['http']}/"
    state["ca_file"] = str(STATE_DIR / "tls" / "fullchain.pem")
    # Prometheus scrapes each Daphne on its own port (loopback is in METRICS_ALLOWED_NETS); nginx refuses /metrics.
    state["metrics_urls"] = [f"http://127.0.0.1:{ports[f'daphne{index}']}/metrics" for index in (1, 2)]
    save(state)
    print(seeded.rstrip())
    print(
        f"\nServing {state['url']} (self-signed: curl --cacert {state['ca_file']}; {state['http_url']} redirects)\n"
        f"  Daphne: 127.0.0.1:{ports['daphne1']} and :{ports['daphne2']}  Redis :{ports['redis']}"
        f"  PostgreSQL primary :{ports['primary']}, replica :{ports['replica']}\n"
        f"  metrics (Prometheus, one per Daphne): {' '.join(state['metrics_urls'])}\n"
        f"  logs: {LOGS}/  stop: make prod-local-stop"
    )


def stop(state: dict) -> None:
    pids = state.get("pids", {})
    # The proxy first, then the servers and workers (SIGTERM, then SIGKILL after 15 s), Redis, the clusters.
    order = ["nginx", "daphne1", "daphne2", "worker1", "worker2", "redis"]
    for name in sorted(pids, key=lambda n: order.index(n) if n in order else len(order)):
        pid = pids[name]
        if not alive(pid) or not ours(name, pid):
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        deadline = time.monotonic() + 15
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log(f"stopped {name} ({pid})")
    if state.get("pg_root"):
        for name in ("replica", "primary"):
            pg_stop(state, name)
        shutil.rmtree(state["pg_root"], ignore_errors=True)
        log(f"removed the clusters in {state['pg_root']}")
    for folder in ("redis", "nginx", "tls", "media"):
        shutil.rmtree(STATE_DIR / folder, ignore_errors=True)
    STATE.unlink(missing_ok=True)


def daphne_command(port: int) -> list:
    return [PYTHON, "-m", "config.server", "-v", "0", "-b", "127.0.0.1", "-p", port, "config.asgi:application"]


def daphne_env(state: dict) -> dict:
    """The Daphnes read from the replica (docs/operations.md "Read replicas"); the workers use the primary only."""
    return app_env(state, DATABASE_REPLICA_URLS=state["replica_url"])


def restart_daphne(state: dict, name: str) -> None:
    """Start one of the two Daphne processes again, as `start` did, unless it still runs."""
    pid = state["pids"][name]
    if alive(pid) and ours(name, pid):
        raise RuntimeError(f"{name} ({pid}) still runs")
    port = state["ports"][name]
    state["pids"][name] = spawn(name, daphne_command(port), daphne_env(state))
    save(state)
    url = f"http://127.0.0.1:{port}/api/health/ready/"
    wait_for(f"{name} ready", lambda: http_ok(url, {"Host": "localhost"}), timeout=120)
    log(f"restarted {name} ({state['pids'][name]})")


def save(state: dict) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2, default=str))


def load() -> dict | None:
    return json.loads(STATE.read_text()) if STATE.exists() else None


def running(state: dict | None) -> bool:
    return bool(state and state.get("url") and all(ours(name, pid) for name, pid in state["pids"].items()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="make prod-local: the compose topology as local processes")
    parser.add_argument("action", nargs="?", default="start", choices=["start", "stop", "status", "restart"])
    parser.add_argument("process", nargs="?", choices=["daphne1", "daphne2"], help="restart: which Daphne")
    parser.add_argument("--port-base", type=int, default=28400)
    parser.add_argument("--pg-prefix", default="thebot-prod-local-pg-")
    options = parser.parse_args(argv[1:])
    action = options.action
    state = load()
    if action == "status":
        print(json.dumps(state, indent=2))
        return 0 if running(state) else 1
    if action == "restart":
        if state is None or not state.get("url") or options.process is None:
            parser.error("restart needs a running topology and daphne1 or daphne2")
        restart_daphne(state, options.process)
        return 0
    if action == "stop":
        if state is None:
            log("not running")
            return 0
        stop(state)
        return 0
    if running(state):
        log(f"already running: {state['url']} (make prod-local-stop first)")
        return 0
    if state is not None:
        log("a previous run left state behind: stopping it first")
        stop(state)
    state = {}
    try:
        start(state, options.port_base, options.pg_prefix)
    except BaseException:
        log(f"start failed: stopping what was started (logs in {LOGS}/)")
        stop(state)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

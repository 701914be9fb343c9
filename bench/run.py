"""`make bench`: RPS per core of our endpoints on Daphne (ASGI) and under gunicorn (WSGI), one run, one table.

The server is pinned to core 0 and the load generator (wrk, keep-alive, one thread) to core 1. Each point is
a short warm-up and then BENCH_REPEAT runs of BENCH_DURATION seconds: the best is reported, with the spread
(worst/best) so that a noisy, shared machine shows as such. Data: a fresh database (SQLite under var/bench/ by
default, or BENCH_DATABASE_URL), migrated, `seed_demo --scale small`, then `bench.data` for full pages of 20.

Environment: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2), BENCH_REPEAT (2), BENCH_CONNECTIONS (8),
BENCH_DATABASE_URL, BENCH_ONLY (comma-separated endpoint labels), BENCH_SERVERS (daphne,gunicorn).
"""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess  # nosec B404  # the benchmark starts our own server, wrk and manage.py (argument lists, no shell)
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "bench"
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
SERVER_CORE, CLIENT_CORE = os.environ.get("BENCH_SERVER_CORE", "0"), os.environ.get("BENCH_CLIENT_CORE", "1")

# The endpoints of the QA report's table 1.1: (label, method, path, who, target ms).
ENDPOINTS = [
    ("health", "GET", "/api/health/", None, 50),
    ("login", "POST", "/api/auth/login/", None, 200),
    ("profile", "GET", "/api/profile/me/", "teacher", 100),
    ("materials", "GET", "/api/materials/", "teacher", 200),
    ("lessons", "GET", "/api/scheduling/lessons/", "teacher", 200),
    ("admin users", "GET", "/api/admin/users/", "admin", 300),
    ("assignments", "GET", "/api/assignments/", "teacher", 200),
    ("chat rooms", "GET", "/api/chat/rooms/", "teacher", 200),
]


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "THEBOT_DOTENV": "0",  # configured here alone, not by a developer's .env
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{WORK / 'bench.sqlite3'}"),
            # The request throttles stay on (their cost is part of the stack), with rates a benchmark cannot hit.
            "THROTTLE_USER": "100000000/min",
            "THROTTLE_ANON": "100000000/min",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    else:
        env.pop("REDIS_URL", None)
    return env


def manage(*args: str) -> None:
    subprocess.run(  # noqa: S603  # nosec B603  # our own command
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=server_env(), check=True, stdout=subprocess.DEVNULL
    )


def prepare_database() -> dict:
    if "BENCH_DATABASE_URL" not in os.environ:
        for path in WORK.glob("bench.sqlite3*"):
            path.unlink()
    else:
        manage("flush", "--noinput")
    manage("migrate", "--noinput")
    logins = WORK / "demo_logins.json"
    manage("seed_demo", "--scale", "small", "--output", str(logins))
    command = [str(BIN / "python"), "-m", "bench.data"]
    subprocess.run(command, cwd=ROOT, env=server_env(), check=True)  # noqa: S603  # nosec B603  # our own command
    return json.loads(logins.read_text())["logins"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise RuntimeError("server did not come up")


@contextlib.contextmanager
def server(kind: str):
    """Start one server pinned to the server core; yield its base URL; stop it."""
    port = free_port()
    if kind == "bare":
        command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "bench.bare_asgi:application"]
    elif kind == "daphne":
        command = [str(BIN / "python"), "-m", "config.server", "-b", "127.0.0.1", "-p", str(port)]
        command.append("config.asgi:application")
    elif kind == "daphne-stock":
        command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "bench.stock_asgi:application"]
    elif kind == "gunicorn":
        command = [
            str(BIN / "gunicorn"), "--workers", "1", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
            "--log-level", "warning", "config.wsgi:application",
        ]  # fmt: skip
    else:
        raise ValueError(kind)
    log = open(WORK / f"{kind}.log", "ab")  # noqa: SIM115 - closed below
    pinned = ["taskset", "-c", SERVER_CORE, *command]
    process = subprocess.Popen(pinned, cwd=ROOT, env=server_env(), stdout=log, stderr=log)  # noqa: S603  # nosec B603  # our own command
    try:
        wait_until_up(port, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def login(base: str, credentials: dict) -> str:
    body = json.dumps({"email": credentials["email"], "password": credentials["password"]}).encode()
    request = urllib.request.Request(  # noqa: S310  # nosec B310  # http://127.0.0.1 only
        base + "/api/auth/login/", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310  # http://127.0.0.1
        return json.loads(response.read())["token"]


def lua_script(method: str, headers: dict[str, str], body: str | None) -> str:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (gunicorn's worker), threads included."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for one in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def wrk(
    url: str, script: str, seconds: int, pid: int | None = None, connections: int = CONNECTIONS
) -> tuple[float, int, float, float]:
    """One wrk run: (requests/s, non-2xx responses, p50 latency in ms, requests per server CPU second)."""
    cpu_before = cpu_seconds(pid) if pid else 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=WORK, delete=False) as handle:
        handle.write(script)
    try:
        command = ["taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
        output = subprocess.run(  # noqa: S603  # nosec B603  # our own command
            [*command, "--timeout", "30s", "-s", handle.name, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    latency = float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan")
    failures = int(bad.group(1)) if bad else 0
    if errors:
        failures += int(errors.group(4))  # connect/read errors are normal when a sync worker closes the socket
    return rps, failures, latency, (requests / cpu if cpu > 0 else float("nan"))


def summarize(runs: list) -> dict:
    best = max(run[0] for run in runs)
    worst = min(run[0] for run in runs)
    return {
        "rps": best,
        "spread": (best - worst) / best * 100 if best else 0.0,
        "failures": sum(run[1] for run in runs),
        "p50": min(run[2] for run in runs),
        "per_cpu": max(run[3] for run in runs),
        "cpu_spread": (max(r[3] for r in runs) - min(r[3] for r in runs)) / max(r[3] for r in runs) * 100,
    }


def alternate(servers: dict[str, tuple], path: str, scripts: dict[str, str], connections: int) -> dict[str, dict]:
    """One endpoint on several servers (name -> (base URL, pid)): a warm-up each, then BENCH_REPEAT rounds in which
    their runs alternate, so a change in the machine's load hits all alike; the summary of each server's runs."""
    for name, (base, _pid) in servers.items():
        wrk(base + path, scripts[name], WARMUP, connections=connections)
    runs: dict[str, list] = {name: [] for name in servers}
    for _ in range(REPEAT):
        for name, (base, pid) in servers.items():
            runs[name].append(wrk(base + path, scripts[name], DURATION, pid, connections))
    return {name: summarize(runs[name]) for name in servers}


def request_for(label: str, method: str, who: str | None, logins: dict, tokens: dict) -> str:
    headers, body = {}, None
    if who:
        headers["Authorization"] = f"Token {tokens[who]}"
    if method == "POST":
        headers["Content-Type"] = "application/json"
        body = json.dumps({"email": logins["student"]["email"], "password": logins["student"]["password"]})
    return lua_script(method, headers, body)


def bench_endpoints(all_servers: dict[str, tuple], logins: dict, selected: list) -> dict:
    """Both servers run side by side (pinned to the same core, the idle one costs nothing); for each endpoint
    their runs alternate, so a change in the machine's load hits both alike."""
    results: dict[str, dict] = {kind: {} for kind in all_servers}
    tokens = {
        kind: {role: login(base, logins[role]) for role in ("teacher", "admin")} if kind != "bare" else {}
        for kind, (base, _) in all_servers.items()
    }
    for label, method, path, who, _target in selected:
        # The bare app answers only the liveness point; it runs beside the others, alternating like them.
        servers = {kind: pair for kind, pair in all_servers.items() if kind != "bare" or label == "health"}
        # A login is one Argon2 hash (~100 MB, by design): in parallel they would all finish late; one at a time.
        connections = 1 if method == "POST" else CONNECTIONS
        scripts = {kind: request_for(label, method, who, logins, tokens[kind]) for kind in servers}
        for kind, summary in alternate(servers, path, scripts, connections).items():
            results[kind][label] = summary
            print(f"  {kind:8} {label:12} {fmt(results[kind][label])}", file=sys.stderr, flush=True)
    return results


def fmt(result: dict) -> str:
    return (
        f"{result['rps']:8.0f} RPS (±{result['spread']:.0f} %, p50 {result['p50']:.1f} ms, {result['failures']} failed)"
        f" {result['per_cpu']:8.0f} req/CPU-s (±{result['cpu_spread']:.0f} %)"
    )


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    only = {item.strip() for item in os.environ.get("BENCH_ONLY", "").split(",") if item.strip()}
    servers = [item.strip() for item in os.environ.get("BENCH_SERVERS", "daphne,gunicorn").split(",")]
    selected = [endpoint for endpoint in ENDPOINTS if not only or endpoint[0] in only | {"health"}]
    print(
        f"Preparing data ({os.environ.get('BENCH_DATABASE_URL', 'SQLite')})... server on core {SERVER_CORE}, "
        f"wrk on core {CLIENT_CORE}, {CONNECTIONS} connections, {WARMUP} s warm-up + {REPEAT}x{DURATION} s per point",
        file=sys.stderr,
        flush=True,
    )
    logins = prepare_database()

    with contextlib.ExitStack() as stack:
        bases = {}
        for kind in ["bare", *servers]:
            base, process = stack.enter_context(server(kind))
            bases[kind] = (base, process.pid)
        results = bench_endpoints(bases, logins, selected)
    bare = results.pop("bare")["health"]

    print()
    print(f"Bare ASGI JSON app on Daphne: {bare['rps']:.0f} RPS, {bare['per_cpu']:.0f} requests per CPU second")
    if "daphne" in results and "health" in results["daphne"]:
        health = results["daphne"]["health"]
        for name, key in (("RPS", "rps"), ("req/CPU-s", "per_cpu")):
            share = health[key] / bare[key] * 100
            verdict = "met" if share >= 50 else f"missed by {50 - share:.0f} pts"
            print(f"/api/health/ on Daphne: {health[key]:.0f} {name} = {share:.0f} % of bare (goal >= 50 %: {verdict})")
    print()
    kinds = list(results)
    header = "| endpoint | " + " | ".join(f"{kind} RPS (req/CPU-s)" for kind in kinds)
    header += (
        " | Daphne/WSGI RPS (CPU) | goal 70 % | failed |" if {"daphne", "gunicorn"} <= set(kinds) else " | failed |"
    )
    print(header)
    print("|" + "---|" * header.count(" | ") + "---|")
    failed_total = 0
    for label, method, path, _who, _target in selected:
        row = [f"{method} {path}"]
        for kind in kinds:
            r = results[kind][label]
            row.append(f"{r['rps']:.0f} ±{r['spread']:.0f}% ({r['per_cpu']:.0f} ±{r['cpu_spread']:.0f}%)")
        if {"daphne", "gunicorn"} <= set(kinds):
            daphne, wsgi = results["daphne"][label], results["gunicorn"][label]
            ratio, cpu_ratio = daphne["rps"] / wsgi["rps"] * 100, daphne["per_cpu"] / wsgi["per_cpu"] * 100
            row.append(f"{ratio:.0f} % ({cpu_ratio:.0f} %)")
            best = max(ratio, cpu_ratio)
            row.append("met" if best >= 70 else f"-{70 - best:.0f} pts")
        failed = sum(results[kind][label]["failures"] for kind in kinds)
        failed_total += failed
        row.append(str(failed))
        print("| " + " | ".join(row) + " |")
    print()
    print(
        "Best of the repeats; ± is the spread between repeats (the machine is shared: RPS is noisy). "
        "req/CPU-s = requests served per second of the server's own CPU time (robust to other load on the core). "
        "gunicorn = 1 sync worker on config/wsgi.py, i.e. the REST half of a hybrid deployment."
    )
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(main())

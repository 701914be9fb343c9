"""`make bench-scaling`: does a list endpoint stay as fast on `large` data as on `small`? (issue 9)

For each scale (SCALES, default "small,large") a PostgreSQL database `thebot_scaling_<scale>` is created,
migrated and seeded once with `seed_demo` and `bench.data` (full pages of 20 for the demo teacher and admin),
and kept: seeding is idempotent, so a rerun measures at once (drop the databases to reseed). Then one Daphne per
scale serves its database, all pinned to core 0, while this process, pinned to core 1, sends SCALING_REQUESTS
(default 500) sequential requests per list endpoint and scale on one keep-alive connection as the demo user of
the role, after a warm-up, in rounds alternating between the scales: p50 and p95 per endpoint. Queries per
endpoint are counted in a subprocess against the same database (Django's test client under
`CaptureQueriesContext`, a real token, so the token lookup counts). Prints a table and writes
`reports/scaling.md`. Target: p95 on large within 1.3x of small, with identical query counts.

Environment: SCALING_PG_URL (default postgres://postgres@127.0.0.1:5432), SCALES, SCALING_REQUESTS,
SCALING_WARMUP (50), SCALING_REDIS_URL (optional: the cache on Redis, as production).
"""

import json
import os
import statistics
import subprocess  # nosec B404  # the benchmark starts our own server and manage.py (argument lists, no shell)
import sys
import time
from pathlib import Path

import httpx

from bench.run import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "bench"
PG_URL = os.environ.get("SCALING_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
SCALES = [scale.strip() for scale in os.environ.get("SCALES", "small,large").split(",") if scale.strip()]
REQUESTS = int(os.environ.get("SCALING_REQUESTS", "500"))
WARMUP = int(os.environ.get("SCALING_WARMUP", "50"))
RATIO_TARGET = 1.3

# (label, who, path); `{room}` is the first room of the user's rooms list.
ENDPOINTS = [
    ("materials", "teacher", "/api/materials/"),
    ("materials (student)", "student", "/api/materials/"),
    ("lessons", "teacher", "/api/scheduling/lessons/"),
    ("lessons (student)", "student", "/api/scheduling/lessons/"),
    ("admin users", "admin", "/api/admin/users/"),
    ("assignments", "teacher", "/api/assignments/"),
    ("chat rooms", "tutor", "/api/chat/rooms/"),
    ("chat history", "tutor", "/api/chat/rooms/{room}/messages/"),
    ("invoices (tutor)", "tutor", "/api/invoices/"),
    ("invoices (parent)", "parent", "/api/invoices/"),
]
ROW_COUNTS = {
    "users": "accounts.User",
    "lessons": "scheduling.Lesson",
    "materials": "materials.Material",
    "messages": "chat.Message",
    "invoices": "invoices.Invoice",
}


def database_url(scale: str) -> str:
    return f"{PG_URL}/thebot_scaling_{scale}"


def prepare(scale: str) -> dict:
    """Create, migrate and seed the scale's database (a no-op after the first time); the demo logins."""
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"thebot_scaling_{scale}"]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "thebot_scaling_{scale}"')
    env = _env(scale)
    logins = WORK / f"scaling-{scale}.json"
    started = time.monotonic()
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "--scale", scale, "--output", str(logins)]):
        subprocess.run([str(BIN / "python"), "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603  # nosec B603  # our own command
    # Full pages for the demo teacher and admin at every scale (as `make bench`), so that both scales serialize
    # the same number of rows and only the data around them differs.
    subprocess.run([str(BIN / "python"), "-m", "bench.data"], cwd=ROOT, env=env, check=True)  # noqa: S603  # nosec B603  # our own command
    print(f"[{scale}] database ready in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return json.loads(logins.read_text())["logins"]


def _env(scale: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "THEBOT_DOTENV": "0",  # configured here alone, not by a developer's .env
        "DATABASE_URL": database_url(scale),
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "LOG_LEVEL": "WARNING",
        "REQUEST_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    if os.environ.get("SCALING_REDIS_URL"):
        env["REDIS_URL"] = os.environ["SCALING_REDIS_URL"]
        env["CACHE_KEY_PREFIX"] = f"scaling-{scale}"
    return env


ROUNDS = 5  # the requests of an endpoint are split into rounds that alternate between the scales


def measure(logins: dict[str, dict]) -> dict[str, dict]:
    """Timings of every endpoint at every scale. One Daphne per scale, all pinned to core 0 and running at once
    (an idle one costs nothing); each endpoint's requests alternate between them in rounds, so a change in the
    machine's load (PostgreSQL is not pinned) hits every scale alike."""
    servers, logs = {}, []
    try:
        for scale in logins:
            port = free_port()
            command = [
                "taskset",
                "-c",
                "0",
                str(BIN / "python"),
                "-m",
                "config.server",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "config.asgi:application",
            ]
            logs.append(open(WORK / f"scaling-{scale}-daphne.log", "ab"))  # noqa: SIM115 - closed below
            server = subprocess.Popen(command, cwd=ROOT, env=_env(scale), stdout=logs[-1], stderr=logs[-1])  # noqa: S603  # nosec B603  # our own command
            servers[scale] = (port, server)
            wait_until_up(port, server)
        return _timings({scale: f"http://127.0.0.1:{port}" for scale, (port, _) in servers.items()}, logins)
    finally:
        for _, server in servers.values():
            server.terminate()
            server.wait(10)
        for log in logs:
            log.close()


def _timings(bases: dict[str, str], logins: dict[str, dict]) -> dict[str, dict]:
    clients = {scale: httpx.Client(base_url=base, timeout=30) for scale, base in bases.items()}
    try:
        headers, paths = {}, {}
        for scale, client in clients.items():
            for who in {who for _, who, _ in ENDPOINTS}:
                credentials = {key: logins[scale][who][key] for key in ("email", "password")}
                response = client.post("/api/auth/login/", json=credentials)
                response.raise_for_status()
                headers[scale, who] = {"Authorization": f"Token {response.json()['token']}"}
            for label, who, path in ENDPOINTS:
                if "{room}" in path:
                    rooms = client.get("/api/chat/rooms/", headers=headers[scale, who]).json()["results"]
                    path = path.format(room=rooms[0]["id"])
                paths[scale, label] = path
        results: dict[str, dict] = {scale: {} for scale in clients}
        for label, who, _ in ENDPOINTS:
            samples: dict[str, list[float]] = {scale: [] for scale in clients}
            for scale, client in clients.items():
                for _ in range(WARMUP):
                    client.get(paths[scale, label], headers=headers[scale, who]).raise_for_status()
            for _ in range(ROUNDS):
                for scale, client in clients.items():
                    for _ in range(REQUESTS // ROUNDS):
                        started = time.perf_counter()
                        response = client.get(paths[scale, label], headers=headers[scale, who])
                        samples[scale].append((time.perf_counter() - started) * 1000)
                        response.raise_for_status()
            for scale, values in samples.items():
                values.sort()
                results[scale][label] = {
                    "path": paths[scale, label],
                    "p50": statistics.median(values),
                    "p95": values[int(0.95 * (len(values) - 1))],
                    "items": len(response.json().get("results", [])),
                }
            line = "  ".join(f"{scale} p50 {r[label]['p50']:6.2f} p95 {r[label]['p95']:6.2f} ms"
                             for scale, r in results.items())  # fmt: skip
            print(f"  {label:20} {line}", file=sys.stderr, flush=True)
        return results
    finally:
        for client in clients.values():
            client.close()


def count_queries(scale: str, logins: dict, paths: dict[str, str]) -> dict:
    """Queries per endpoint and the table sizes, counted in a subprocess set up for the scale's database."""
    spec = json.dumps({"logins": logins, "paths": paths})
    output = subprocess.run(  # noqa: S603  # nosec B603  # our own command
        [str(BIN / "python"), "-m", "bench.scaling", "--queries"],
        cwd=ROOT, env=_env(scale), input=spec, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def _queries_main() -> None:
    import django

    django.setup()
    from django.apps import apps
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    from accounts.models import User  # after django.setup() above: this function is the Django side of a subprocess

    spec = json.loads(sys.stdin.read())
    counts = {}
    for label, who, _ in ENDPOINTS:
        user = User.objects.get(email=spec["logins"][who]["email"])
        instance, token = AuthToken.objects.create(user=user)
        client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
        client.get(spec["paths"][label])  # warm: content types, permissions caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(spec["paths"][label])
        if response.status_code != 200:
            raise RuntimeError(f"{label}: HTTP {response.status_code}")
        counts[label] = len(queries)
        instance.delete()
    rows = {name: apps.get_model(model).objects.count() for name, model in ROW_COUNTS.items()}
    print(json.dumps({"queries": counts, "rows": rows}))


def report(figures: dict) -> str:
    small, large = SCALES[0], SCALES[-1]
    lines = [
        "# Scaling: list endpoints on `large` against `small`",
        "",
        f"PostgreSQL, Daphne pinned to core 0, {REQUESTS} sequential requests per endpoint from core 1 after "
        f"{WARMUP} warm-up requests; page size 20. Target: p95 on {large} within {RATIO_TARGET}x of {small}, with "
        "identical query counts.",
        "",
        "| rows | " + " | ".join(SCALES) + " |",
        "|---|" + "---|" * len(SCALES),
    ]
    for name in ROW_COUNTS:
        lines.append(f"| {name} | " + " | ".join(f"{figures[s]['rows'][name]:,}" for s in SCALES) + " |")
    lines += [
        "",
        f"| endpoint (who) | p50 {small} | p50 {large} | p95 {small} | p95 {large} | p95 ratio | queries "
        f"{small} / {large} | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, who, _ in ENDPOINTS:
        a, b = figures[small]["timings"][label], figures[large]["timings"][label]
        qa, qb = figures[small]["queries"][label], figures[large]["queries"][label]
        ratio = b["p95"] / a["p95"]
        verdict = "pass" if ratio <= RATIO_TARGET and qa == qb else "MISS"
        lines.append(
            f"| {label} ({who}) | {a['p50']:.2f} ms | {b['p50']:.2f} ms | {a['p95']:.2f} ms | {b['p95']:.2f} ms | "
            f"{ratio:.2f}x | {qa} / {qb} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    os.sched_setaffinity(0, {1})
    logins = {scale: prepare(scale) for scale in SCALES}
    print(f"timing {len(ENDPOINTS)} endpoints at {', '.join(SCALES)}", file=sys.stderr, flush=True)
    timings = measure(logins)
    figures = {}
    for scale in SCALES:
        counted = count_queries(scale, logins[scale], {label: t["path"] for label, t in timings[scale].items()})
        figures[scale] = {"timings": timings[scale], **counted}
    text = report(figures)
    print(text)
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "scaling.md").write_text(text)
    return 0


if __name__ == "__main__":
    if "--queries" in sys.argv:
        sys.path.insert(0, str(ROOT))
        _queries_main()
    else:
        sys.exit(main())

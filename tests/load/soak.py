"""`make soak`: the locust mix for a long time on one stack, then longer at half the users; verdicts in reports/soak.md.

    python tests/load/soak.py --users 20 --minutes 15 --half-minutes 60      (SOAK_USERS, SOAK_MINUTES, ...)

By hand, not in CI (75 minutes by default). The stack is the load test's (tests/load/run_loadtest.py: a throwaway
PostgreSQL database, Redis when it answers, `seed_demo`, Daphne and the job worker as production runs them, locust
headless on the other core) and stays up across both phases: phase 1 runs `--users` users for `--minutes`, phase 2
`--users / 2` for `--half-minutes`. Every `--sample-seconds` the RSS of Daphne and the worker (/proc) and the
connections to the database (`pg_stat_activity`, this sampler's own excluded) are recorded. Then the targets:

- at least 99.9 % of the requests are not 5xx (the server's request log, plus locust's transport errors, which never
  reached it, counted as 5xx);
- no minute above 1 % errors (locust's failures: anything but the expected answers, per minute of its history);
- memory growth below 10 % per process, mean RSS of the second minute (users spawned, caches warm) to the last;
- database connections never above the pools' sum (DATABASE_POOL_MAX per process, Daphne and the worker).

reports/soak.md holds the verdict per target, the per-minute table and the samples' summary; the locust CSVs and
the server's logs are kept beside it (soak_*). The exit code is 0 when every target is met.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_loadtest import BIN, ROOT, Stack, free_port, log, taskset  # noqa: E402
from sampler import _proc_rss_kib  # noqa: E402

NON_5XX_TARGET = 99.9  # % of requests
MINUTE_ERROR_TARGET = 1.0  # % of a minute's requests
MEMORY_GROWTH_TARGET = 10.0  # % per process
PROCESSES = ("daphne", "worker")


def env_number(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=int(env_number("SOAK_USERS", 20)))
    parser.add_argument("--spawn-rate", type=float, default=env_number("SOAK_SPAWN_RATE", 5))
    parser.add_argument("--minutes", type=float, default=env_number("SOAK_MINUTES", 15), help="phase 1, all users")
    parser.add_argument(
        "--half-minutes", type=float, default=env_number("SOAK_HALF_MINUTES", 60), help="phase 2, half the users"
    )
    parser.add_argument("--sample-seconds", type=float, default=env_number("SOAK_SAMPLE_SECONDS", 5))
    parser.add_argument("--scale", default=os.environ.get("SOAK_SCALE", "small"))
    parser.add_argument("--pool-max", type=int, default=int(env_number("DATABASE_POOL_MAX", 20)))
    parser.add_argument(
        "--pg-url", default=os.environ.get("LOADTEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    args.db, args.redis = "postgres", "auto"  # what Stack reads: the soak is about the production stack
    return args


class Samples(threading.Thread):
    """(unix time, {process: RSS KiB}, database connections) every `interval` seconds until stopped."""

    def __init__(self, pids: dict[str, int], pg_url: str, database: str, interval: float):
        super().__init__(daemon=True, name="soak-sampler")
        self.pids, self.pg_url, self.database, self.interval = pids, pg_url, database, interval
        self.rows: list[tuple[float, dict[str, int | None], int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            while not self.halt.is_set():
                (connections,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [self.database],
                ).fetchone()
                rss = {name: _proc_rss_kib(pid) for name, pid in self.pids.items()}
                self.rows.append((time.time(), rss, connections))
                self.halt.wait(self.interval)


def run_phase(stack: Stack, args, *, name: str, users: int, minutes: float, host: str, logins: Path) -> dict:
    prefix = args.reports / f"soak_{name}"
    seconds = max(1, round(minutes * 60))
    argv = [
        *taskset("1"),
        str(BIN / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{seconds}s",
        "-H",
        host,
        "--csv",
        str(prefix),
        "--csv-full-history",
        "--only-summary",
        "--stop-timeout",
        "5",
    ]
    env = {**stack.env, "LOADTEST_LOGINS": str(logins), "LOADTEST_WARMUP": "0"}
    log(f"{name}: {users} users for {minutes:g} min")
    started = time.time()
    code = stack.start(f"locust-{name}", argv, f"soak_{name}_locust.log", env=env).wait()
    log(f"{name}: locust exited with {code} (1 = some requests failed)")
    return {"name": name, "users": users, "minutes": minutes, "start": started, "end": time.time(), "prefix": prefix}


def history_minutes(phase: dict) -> list[dict]:
    """Requests and failures per minute of a phase, from locust's cumulative Aggregated history rows."""
    path = Path(f"{phase['prefix']}_stats_history.csv")
    points = [(phase["start"], 0, 0)]
    if path.exists():
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") == "Aggregated":
                    points.append(
                        (float(row["Timestamp"]), int(row["Total Request Count"]), int(row["Total Failure Count"]))
                    )
    minutes = []
    # Whole minutes of the phase; the seconds locust takes to stop its users count in the last one.
    count = max(1, math.ceil(phase["minutes"] - 1e-9))
    for index in range(count):
        lo = phase["start"] + 60 * index
        hi = phase["start"] + 60 * (index + 1) if index < count - 1 else max(points[-1][0], lo) + 1
        before = [p for p in points if p[0] <= lo][-1]
        upto = [p for p in points if p[0] <= hi][-1]
        requests, failures = upto[1] - before[1], upto[2] - before[2]
        minutes.append(
            {
                "phase": phase["name"],
                "minute": index + 1,
                "start": lo,
                "end": hi,
                "requests": requests,
                "failures": failures,
                "error_percent": 100 * failures / requests if requests else 0.0,
            }
        )
    return minutes


def server_side_failures(phase: dict) -> tuple[int, int]:
    """(5xx answers, transport errors) among locust's failures: its errors read "<status>: <body start>", and a
    request that got no HTTP answer (refused, reset, timed out) has status 0 or none; both count as 5xx."""
    path = Path(f"{phase['prefix']}_failures.csv")
    if not path.exists():
        return 0, 0
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    answered_5xx = transport = 0
    for row in rows:
        found = re.search(r"(?:^|\(['\"])(\d{1,3}):", row["Error"])
        status = int(found.group(1)) if found else 0
        if status >= 500:
            answered_5xx += int(row["Occurrences"])
        elif status == 0:
            transport += int(row["Occurrences"])
    return answered_5xx, transport


def server_statuses(log_path: Path) -> list[tuple[float, int]]:
    """(unix time, status) of every request line of the server's log."""
    rows = []
    for line in log_path.read_text(errors="replace").splitlines() if log_path.exists() else []:
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "request" and "status" in entry:
            rows.append((dt.datetime.fromisoformat(entry["time"]).timestamp(), int(entry["status"])))
    return rows


def judge(args, phases: list[dict], minutes: list[dict], samples: list, statuses: list) -> dict:
    requests = sum(m["requests"] for m in minutes)
    server_5xx = sum(1 for _, status in statuses if status >= 500)  # the server's own count, a cross-check
    client_5xx = sum(server_side_failures(phase)[0] for phase in phases)
    lost = sum(server_side_failures(phase)[1] for phase in phases)
    non_5xx = 100 * (1 - (client_5xx + lost) / requests) if requests else 0.0
    for minute in minutes:
        minute["5xx"] = sum(1 for at, status in statuses if minute["start"] <= at < minute["end"] and status >= 500)
    worst = max(minutes, key=lambda m: m["error_percent"]) if minutes else None
    # Memory from the second minute (every user has spawned and logged in, caches are warm) to the last.
    first, last = (minutes[min(1, len(minutes) - 1)], minutes[-1]) if minutes else (None, None)

    def mean_rss(minute, name):
        values = [r[name] for at, r, _ in samples if minute["start"] <= at < minute["end"] and r.get(name)]
        return sum(values) / len(values) / 1024 if values else None

    growth = {}
    for name in PROCESSES:
        start, end = (mean_rss(first, name), mean_rss(last, name)) if first else (None, None)
        growth[name] = {
            "start_mib": start,
            "end_mib": end,
            "peak_mib": max((r[name] or 0 for _, r, _ in samples), default=0) / 1024,
            "growth_percent": 100 * (end / start - 1) if start and end else None,
        }
    pools = args.pool_max * len(PROCESSES)
    peak_connections = max((c for _, _, c in samples), default=0)
    results = {
        "requests": requests,
        "server_requests": len(statuses),
        "server_5xx": server_5xx,
        "client_5xx": client_5xx,
        "transport_errors": lost,
        "non_5xx_percent": non_5xx,
        "worst_minute": worst,
        "memory": growth,
        "pools_sum": pools,
        "peak_connections": peak_connections,
    }
    results["verdicts"] = [
        (
            f">= {NON_5XX_TARGET} % non-5xx",
            f"{non_5xx:.3f} % ({client_5xx} 5xx + {lost} transport errors of {requests}; server log: {server_5xx} 5xx)",
            requests > 0 and non_5xx >= NON_5XX_TARGET,
        ),
        (
            f"no minute above {MINUTE_ERROR_TARGET:g} % errors",
            f"worst {worst['error_percent']:.2f} % ({worst['phase']} minute {worst['minute']})" if worst else "no data",
            bool(worst) and worst["error_percent"] <= MINUTE_ERROR_TARGET,
        ),
        *[
            (
                f"memory growth < {MEMORY_GROWTH_TARGET:g} % ({name})",
                f"{g['start_mib']:.1f} → {g['end_mib']:.1f} MiB ({g['growth_percent']:+.1f} %), "
                f"peak {g['peak_mib']:.1f}"
                if g["growth_percent"] is not None
                else "no samples",
                g["growth_percent"] is not None and g["growth_percent"] < MEMORY_GROWTH_TARGET,
            )
            for name, g in growth.items()
        ],
        (
            f"database connections <= the pools' sum ({len(PROCESSES)} x {args.pool_max})",
            f"peak {peak_connections} of {pools}",
            bool(samples) and peak_connections <= pools,
        ),
    ]
    return results


def write_report(args, phases, minutes, samples, results, seed_seconds: float) -> Path:
    ok = all(passed for _, _, passed in results["verdicts"])
    lines = [
        "# Soak",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `tests/load/soak.py` (`make soak`); verdict: "
        f"**{'all targets met' if ok else 'TARGETS MISSED'}**.",
        "",
        f"Stack: PostgreSQL + {'Redis' if args.redis_used else 'embedded cache'} as `make loadtest` "
        f"runs it (Daphne and the worker on core 0, locust on core 1), `seed_demo --scale {args.scale}` "
        f"({seed_seconds:.0f} s). Phases: "
        + ", then ".join(f"{p['users']} users for {p['minutes']:g} min" for p in phases)
        + f"; samples every {args.sample_seconds:g} s ({len(samples)} in all). Load average at the end: "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
        + f" on {os.cpu_count()} CPUs (a shared machine: other work shows in the figures).",
        "",
        "| target | measured | result |",
        "|---|---|---|",
        *[
            f"| {target} | {measured} | {'met' if passed else 'MISSED'} |"
            for target, measured, passed in results["verdicts"]
        ],
        "",
        "## Per minute",
        "",
        "| phase | minute | requests | failures | errors % | 5xx (server) | Daphne RSS MiB | worker RSS MiB "
        "| DB connections (max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in minutes:
        inside = [(r, c) for at, r, c in samples if m["start"] <= at < m["end"]]

        def rss(name, inside=inside):
            values = [r[name] for r, _ in inside if r.get(name)]
            return f"{sum(values) / len(values) / 1024:.1f}" if values else "-"

        connections = max((c for _, c in inside), default=0)
        lines.append(
            f"| {m['phase']} | {m['minute']} | {m['requests']} | {m['failures']} | {m['error_percent']:.2f} | "
            f"{m['5xx']} | {rss('daphne')} | {rss('worker')} | {connections} |"
        )
    lines += [
        "",
        f"Requests counted by locust: {results['requests']}; request lines in the server's log: "
        f"{results['server_requests']} (locust also counts socket frames; the health probe is not logged).",
        "Memory growth compares the mean RSS of the second minute (users spawned) and the last. Locust's CSVs, "
        "the server's and the worker's logs are in `reports/soak_*`.",
        "",
    ]
    path = args.reports / "soak.md"
    path.write_text("\n".join(lines))
    return path


def run(args) -> int:
    args.reports.mkdir(parents=True, exist_ok=True)
    for old in args.reports.glob("soak_*"):
        old.unlink()
    stack = Stack(args)
    # Keys under the caller's CACHE_KEY_PREFIX (a shared Redis database), removed at the end.
    stack.prefix = f"{os.environ.get('CACHE_KEY_PREFIX', '')}soak{secrets.token_hex(4)}"
    stack.env["CACHE_KEY_PREFIX"] = stack.prefix
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        stack.database()
        redis_url = stack.redis()
        args.redis_used = bool(redis_url)
        log(f"database {stack.pg_name}, {'Redis ' + redis_url if redis_url else 'embedded'}, prefix {stack.prefix}")
        stack.manage("migrate", "--noinput", "-v", "0")
        logins = stack.tmp / "logins.json"
        started = time.monotonic()
        stack.manage("seed_demo", "--scale", args.scale, "--output", str(logins))
        seed_seconds = time.monotonic() - started
        port = free_port()
        daphne_argv = [str(BIN / "daphne"), "-v", "0", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
        daphne = stack.start("daphne", [*taskset("0"), *daphne_argv], "soak_daphne.log")
        worker_argv = [str(BIN / "python"), "manage.py", "run_worker"]
        worker = stack.start("worker", [*taskset("0"), *worker_argv], "soak_worker.log")
        stack.wait_ready(port)
        samples = Samples({"daphne": daphne.pid, "worker": worker.pid}, args.pg_url, stack.pg_name, args.sample_seconds)
        samples.start()
        host = f"http://127.0.0.1:{port}"
        phases = [
            run_phase(stack, args, name="phase1", users=args.users, minutes=args.minutes, host=host, logins=logins),
            run_phase(
                stack,
                args,
                name="phase2",
                users=max(1, args.users // 2),
                minutes=args.half_minutes,
                host=host,
                logins=logins,
            ),
        ]
        samples.halt.set()
        samples.join()
        for process in (daphne, worker):
            stack.stop(process)
        minutes = [minute for phase in phases for minute in history_minutes(phase)]
        results = judge(args, phases, minutes, samples.rows, server_statuses(args.reports / "soak_daphne.log"))
        path = write_report(args, phases, minutes, samples.rows, results, seed_seconds)
        for target, measured, passed in results["verdicts"]:
            log(f"{'met   ' if passed else 'MISSED'} {target}: {measured}")
        log(f"wrote {path}")
        return 0 if all(passed for _, _, passed in results["verdicts"]) else 1
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        stack.close()


if __name__ == "__main__":
    sys.exit(run(parse_args()))

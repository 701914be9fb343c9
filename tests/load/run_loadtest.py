"""`make loadtest`: the whole stack on this machine, seeded, under locust for a fixed time; figures into reports/.

    python tests/load/run_loadtest.py --users 20 --spawn-rate 5 --duration 60s --scale small --db postgres

1. A throwaway database (SQLite file in a temporary directory, or a PostgreSQL database it creates and drops)
   and, with PostgreSQL, Redis when it answers (a key prefix of its own, deleted afterwards), else embedded.
2. `migrate`, `seed_demo --scale`, then Daphne pinned to core 0 (`taskset -c 0`) and `manage.py run_worker`
   beside it, on a free port of 127.0.0.1, as production runs them (DEBUG off).
3. Locust headless pinned to core 1 (`--csv --csv-full-history --html`), while the server's CPU time and RSS are
   sampled from /proc: the users spawn, `--warmup` seconds pass (every user has logged in and discovered its
   ids, the server's caches are warm), then the statistics start again and run for `--duration`.
4. After the load, the query count of every endpoint that was hit, by replaying one request of each under
   `CaptureQueriesContext` (tests/load/query_counts.py).
5. reports/: locust.html, locust_*.csv, latency.png and performance.md (tests/load/report.py).

Everything it started is stopped, and the database dropped, also on Ctrl-C or failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

from report import write_report  # noqa: E402
from sampler import ProcSampler  # noqa: E402

# A handful of accounts carry the whole load: throttles sized for one human would turn this into a throttle test.
UNTHROTTLED = {
    "THROTTLE_USER": "1000000/min",
    "THROTTLE_ANON": "1000000/min",
    "THROTTLE_UPLOADS": "1000000/min",
    "THROTTLE_INVOICE_SEND": "1000000/min",
}


def log(message: str) -> None:
    print(f"[loadtest] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def taskset(core: str) -> list[str]:
    return ["taskset", "-c", core] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def redis_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - unreachable for any reason means embedded
        return False


class Stack:
    """What the run started, so that `close()` can undo all of it."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="thebot-loadtest-"))
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.pg_admin_url: str | None = None
        self.pg_name: str | None = None
        self.redis_url: str | None = None
        self.prefix = f"loadtest{secrets.token_hex(4)}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env.update(
            THEBOT_DOTENV="0",  # the stack is configured here alone, not by a developer's .env
            DJANGO_ENV="development",
            DEBUG="0",
            MEDIA_ROOT=str(self.tmp / "media"),
            CACHE_KEY_PREFIX=self.prefix,
            PYTHONUNBUFFERED="1",
            **UNTHROTTLED,
        )

    # --- database and Redis --------------------------------------------------------------------------------
    def database(self) -> str:
        if self.args.db == "sqlite":
            url = f"sqlite:///{self.tmp / 'loadtest.sqlite3'}"
        else:
            import psycopg

            self.pg_admin_url = self.args.pg_url
            self.pg_name = f"thebot_loadtest_{secrets.token_hex(4)}"
            with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            base = self.pg_admin_url.rsplit("/", 1)[0]
            url = f"{base}/{self.pg_name}"
        self.env["DATABASE_URL"] = url
        return url

    def redis(self) -> str | None:
        wanted = self.args.redis
        if wanted == "off" or (wanted == "auto" and self.args.db == "sqlite"):
            return None
        if redis_reachable(self.args.redis_url):
            self.redis_url = self.args.redis_url
            self.env["REDIS_URL"] = self.redis_url
            return self.redis_url
        if wanted == "on":
            raise SystemExit(f"Redis not reachable at {self.args.redis_url}")
        log(f"Redis not reachable at {self.args.redis_url}: embedded cache and channel layer")
        return None

    # --- processes -----------------------------------------------------------------------------------------
    def manage(self, *argv: str) -> None:
        subprocess.run([str(BIN / "python"), "manage.py", *argv], cwd=ROOT, env=self.env, check=True)

    def start(self, label: str, argv: list[str], log_name: str, env: dict | None = None) -> subprocess.Popen:
        out = open(self.args.reports / log_name, "w")  # noqa: SIM115 - kept open for the process's life
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((label, process))
        return process

    def wait_ready(self, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{port}/api/health/ready/"
        while time.monotonic() < deadline:
            for label, process in self.processes:
                if process.poll() is not None:
                    raise SystemExit(f"{label} exited with {process.returncode} (see reports/{label}.log)")
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.3)
        raise SystemExit(f"server not ready after {timeout:.0f} s")

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def close(self) -> None:
        for _label, process in reversed(self.processes):
            self.stop(process)
        if self.pg_name:
            import psycopg

            with contextlib.suppress(Exception), psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
                log(f"dropped database {self.pg_name}")
        if self.redis_url:
            with contextlib.suppress(Exception):
                import redis

                client = redis.Redis.from_url(self.redis_url)
                keys = list(client.scan_iter(match=f"*{self.prefix}*", count=1000))
                if keys:
                    client.delete(*keys)
                log(f"deleted {len(keys)} Redis keys of prefix {self.prefix}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def seconds(duration: str) -> int:
    """Locust's run-time syntax (`90`, `60s`, `5m`, `1h30m`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    total, number = 0, ""
    for char in duration.strip():
        if char.isdigit():
            number += char
        elif char in units and number:
            total, number = total + int(number) * units[char], ""
        else:
            raise argparse.ArgumentTypeError(f"not a duration: {duration!r}")
    total += int(number or 0)
    if total <= 0:
        raise argparse.ArgumentTypeError(f"not a duration: {duration!r}")
    return total


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument(
        "--duration", type=seconds, default="60s", help="measured time after the warm-up, e.g. 60s, 5m, 1h30m"
    )
    parser.add_argument(
        "--warmup", type=float, default=15, help="seconds after the last spawn before the statistics start (0: none)"
    )
    parser.add_argument("--scale", default="small")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--redis", choices=["auto", "on", "off"], default="auto", help="auto: with PostgreSQL")
    parser.add_argument(
        "--pg-url", default=os.environ.get("LOADTEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    return parser.parse_args(argv)


def run(args) -> int:
    args.reports.mkdir(parents=True, exist_ok=True)
    for old in args.reports.glob("locust_*.csv"):
        old.unlink()
    stack = Stack(args)
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        db_url = stack.database()
        redis_url = stack.redis()
        log(f"database {args.db} ({db_url.split('@')[-1]}), {'Redis ' + redis_url if redis_url else 'embedded'}")
        stack.manage("migrate", "--noinput", "-v", "0")
        logins = stack.tmp / "logins.json"
        started = time.monotonic()
        stack.manage("seed_demo", "--scale", args.scale, "--output", str(logins))
        seed_seconds = time.monotonic() - started

        port = free_port()
        host = f"http://127.0.0.1:{port}"
        # -v 0: no plain access log from Daphne; the app's JSON request lines are what report.py reads.
        argv = [str(BIN / "python"), "-m", "config.server", "-v", "0", "-b", "127.0.0.1", "-p", str(port)]
        argv.append("config.asgi:application")
        daphne = stack.start(
            "daphne",
            [*taskset("0"), *argv],
            "daphne.log",
        )
        worker = stack.start("worker", [*taskset("0"), str(BIN / "python"), "manage.py", "run_worker"], "worker.log")
        stack.wait_ready(port)
        log(f"Daphne pid {daphne.pid} and worker pid {worker.pid} up on {host}")

        sampler = ProcSampler({"daphne": daphne.pid, "worker": worker.pid})
        sampler.start()
        extra = stack.tmp / "extra.json"
        locust_env = {
            **stack.env,
            "LOADTEST_LOGINS": str(logins),
            "LOADTEST_EXTRA_FILE": str(extra),
            "LOADTEST_WARMUP": str(args.warmup),
        }
        # Locust's run time counts from the first spawn: spawning, then the warm-up, then the measured time.
        spawning = args.users / args.spawn_rate if args.spawn_rate > 0 else 0
        run_time = int(spawning + args.warmup + args.duration + 0.999) if args.warmup > 0 else args.duration
        prefix = args.reports / "locust"
        argv = [
            *taskset("1"),
            str(BIN / "locust"),
            "-f",
            str(HERE / "locustfile.py"),
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            f"{run_time}s",
            "-H",
            host,
            "--csv",
            str(prefix),
            "--csv-full-history",
            "--html",
            str(args.reports / "locust.html"),
            "--only-summary",
            "--stop-timeout",
            "5",
        ]
        log(f"locust: {args.users} users, spawn rate {args.spawn_rate}/s, warm-up {args.warmup:g} s, {args.duration} s")
        locust = stack.start("locust", argv, "locust.log", env=locust_env)
        locust_code = locust.wait()
        sampler.stop()
        log(f"locust exited with {locust_code} (1 = some requests failed)")
        if not extra.exists():
            raise SystemExit(f"locust did not finish its run (exit {locust_code}): see {args.reports / 'locust.log'}")
        for process in (daphne, worker):
            stack.stop(process)

        counts_file = stack.tmp / "queries.json"
        log("counting queries per endpoint (one replay each)")
        with open(args.reports / "query_counts.log", "w") as out:
            subprocess.run(
                [str(BIN / "python"), str(HERE / "query_counts.py"), str(extra), str(counts_file)],
                cwd=ROOT,
                env=stack.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
            )
        run_info = {
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "duration": f"{args.duration}s",
            "warmup": args.warmup,
            "scale": args.scale,
            "db": args.db,
            "redis": bool(redis_url),
            "seed_seconds": round(seed_seconds, 1),
            "seed": json.loads(logins.read_text()),
            "locust_exit": locust_code,
            "pinned": bool(taskset("0")),
        }
        path = write_report(
            reports=args.reports,
            prefix=prefix,
            extra=json.loads(extra.read_text()) if extra.exists() else {"buckets": {}, "samples": {}},
            queries=json.loads(counts_file.read_text()),
            resources=sampler.summary(),
            run=run_info,
        )
        log(f"wrote {path}")
        return 0
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        stack.close()


if __name__ == "__main__":
    sys.exit(run(parse_args()))

"""The fault suite's topology, all real processes on 127.0.0.1: a private PostgreSQL cluster (tests/pgcluster.py),
a private redis-server (tests/chat/redis_server.py), two Daphne processes, one `manage.py run_worker` and the fake
Telegram Bot API (tests/notifications/fakes.py). The suite stops, pauses, kills and restarts them; `Stack` also plays
the supervisor that restarts a killed process (and counts it), and answers whether a service is back."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import redis

from tests.chat.daphne import ROOT, DaphneProcess, server_env
from tests.chat.redis_server import RedisServer
from tests.notifications.fakes import BOT_TOKEN, FakeTelegram
from tests.pgcluster import PrivateCluster

SCENARIOS = 7
INVOICES_PER_SCENARIO = 8


def settings_for(cluster: PrivateCluster, redis_server: RedisServer, telegram: FakeTelegram, prefix: str) -> dict:
    """The servers' and the worker's environment: production-like pools and timeouts, short leases and backoff
    (so that the suite waits seconds, not minutes), generous rates (the load is ours)."""
    return {
        "REDIS_URL": redis_server.url,
        "CACHE_KEY_PREFIX": prefix,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.url,
        "TELEGRAM_JOB_BACKOFF_SECONDS": "1",
        "TELEGRAM_JOB_MAX_ATTEMPTS": "50",
        "THROTTLE_USER": "100000/min",
        "CHAT_SEND_PER_SECOND": "1000",
        "WORKER_BACKOFF_MAX_SECONDS": "1",
        "WORKER_HEARTBEAT_SECONDS": "0.3",
        "WORKER_LEASE_SECONDS": "3",
        "CHAT_SESSION_CHECK_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }


class HoldingTelegram(FakeTelegram):
    """The fake Bot API, able to hold one call (the `hold`-th from now) unanswered until `release`: the worker
    scenario kills the worker while the fake holds its call, i.e. after the job's effect was recorded and the
    message went out, before the answer came back. (A kill between the record and the call would lose the message:
    the documented at-most-once window, docs/operations.md "Processes"; the suite does not aim at it.)"""

    def __init__(self, token: str):
        super().__init__(token)
        self.held = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self._arrivals = 0
        self._hold_at: int | None = None

    def hold(self, nth: int) -> None:
        with self.lock:
            self.held.clear()
            self.gate.clear()
            self._hold_at = self._arrivals + nth

    def release(self) -> None:
        self.gate.set()

    def handle(self, request, method, body):
        with self.lock:
            self._arrivals += 1
            holding = self._arrivals == self._hold_at
        if holding:
            self.held.set()
            self.gate.wait(120)
        return super().handle(request, method, body)


class Worker:
    def __init__(self, url: str, env: dict, log: Path):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-scheduler"],
            cwd=ROOT,
            env=server_env(url, **env),
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Stack:
    def __init__(self):
        self.cluster = PrivateCluster()
        self.redis = RedisServer()
        self.telegram = HoldingTelegram(BOT_TOKEN).start()
        # A worker killed inside a call leaves the fake writing to a closed socket: not an error of the suite's.
        self.telegram.server.handle_error = lambda request, address: None
        self.folder = Path(tempfile.mkdtemp(prefix="thebot-faults-"))
        self.url = self.cluster.create_database("thebot")
        self.env = settings_for(self.cluster, self.redis, self.telegram, f"faults-{uuid.uuid4().hex[:6]}")
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.faults.seed", str(SCENARIOS), str(INVOICES_PER_SCENARIO)],
            cwd=ROOT,
            env=server_env(self.url, **self.env),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        self.data = json.loads(seeded.stdout.strip().splitlines()[-1])
        self.servers = [DaphneProcess(self.url, **self.env) for _ in range(2)]
        self.worker = Worker(self.url, self.env, self.folder / "worker.log")
        self.restarts: list[str] = []  # processes the supervisor (this class) had to start again

    # --- the supervisor ---------------------------------------------------------------------------------------
    def dead(self) -> list[str]:
        """Processes that are not running (a killed one counts until restarted)."""
        gone = [f"daphne {i}" for i, server in enumerate(self.servers) if server.process.poll() is not None]
        return gone + ([] if self.worker.alive() else ["worker"])

    def kill_daphne(self, index: int) -> None:
        server = self.servers[index]
        os.kill(server.pid, signal.SIGKILL)
        server.process.wait()

    def restart_daphne(self, index: int) -> None:
        self.servers[index].stop()
        self.servers[index] = DaphneProcess(self.url, **self.env)
        self.restarts.append(f"daphne {index}")

    def kill_worker(self) -> None:
        os.kill(self.worker.process.pid, signal.SIGKILL)
        self.worker.process.wait()

    def restart_worker(self) -> None:
        self.worker.stop()
        self.worker = Worker(self.url, self.env, self.folder / "worker.log")
        self.restarts.append("worker")

    # --- is it back? (the service answering, polled) ----------------------------------------------------------
    def redis_answers(self) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.redis.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def postgres_answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1, autocommit=True) as conn:
                return conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error:
            return False

    def daphne_answers(self, index: int) -> bool:
        try:
            return httpx.get(self.servers[index].base_url + "/api/health/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.cluster.query("thebot", sql, params)

    def terminate_app_backends(self) -> int:
        """pg_terminate_backend of every backend connected to the application's database (but this one)."""
        rows = self.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = 'thebot' AND pid <> pg_backend_pid()"
        )
        return sum(1 for (done,) in rows if done)

    def log_tail(self, size: int = 3000) -> str:
        parts = [f"--- daphne {i}\n{server.log_tail(size)}" for i, server in enumerate(self.servers)]
        parts.append(f"--- worker\n{self.worker.log.read_text(errors='replace')[-size:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.worker.stop()
        self.telegram.stop()
        self.redis.stop()
        self.cluster.remove()


def wait_until(condition, what: str, limit: float = 120.0):
    """Poll `condition` until it returns something true; `limit` only ends a broken run."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")

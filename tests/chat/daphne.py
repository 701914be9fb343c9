"""Real Daphne processes for end-to-end chat tests and the chat benchmark.

`seed(database_url, ...)` fills a database from a subprocess (migrating an SQLite file first) and returns the
ids and tokens it made; `DaphneProcess` runs the project's ASGI application on a free port of 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings", **extra}
    env.setdefault("LOG_LEVEL", "WARNING")
    env["REQUEST_LOG_LEVEL"] = "WARNING"
    env["PYTHONPATH"] = str(ROOT)
    return env


def seed(database_url: str, *, members: int = 2, outsiders: int = 1, migrate: bool = False) -> dict:
    """Users in one group room (the first is a teacher), outsiders, and a token for each (subprocess)."""
    command = [sys.executable, "-m", "tests.chat.seed", str(members), str(outsiders), "1" if migrate else "0"]
    output = subprocess.run(
        command, cwd=ROOT, env=server_env(database_url), capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


class DaphneProcess:
    """The server we ship (`python -m config.server`: Daphne with the body limits); `stock=True` runs plain Daphne."""

    def __init__(self, database_url: str, *, cpu: int | None = None, stock: bool = False, **env: str):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/chat/"
        server = "daphne" if stock else "config.server"
        command = [sys.executable, "-m", server, "-v", "0", "-b", "127.0.0.1", "-p", str(self.port)]
        command.append("config.asgi:application")
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        # The server's log goes to a file: a pipe nobody reads would fill up and stall the server.
        self.log = tempfile.NamedTemporaryFile(prefix="daphne-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(database_url, **env), stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:  # a bound for a busy machine: it returns once ready
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("daphne exited: " + self.log_tail())
            try:
                if httpx.get(self.base_url + "/api/health/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("daphne did not become ready")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)

    def log_tail(self, size: int = 4000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-size:]

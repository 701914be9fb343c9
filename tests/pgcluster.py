"""A private PostgreSQL cluster for fault tests: initdb in a temporary folder, a free port on 127.0.0.1, stopped
and started at will, removed afterwards. Never the system PostgreSQL: the tests stop this one.

initdb and pg_ctl refuse to run as root, so they run as the `postgres` user (`runuser`) when the tests are root.
"""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.chat.daphne import free_port


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def unavailable_reason() -> str | None:
    if _bin_dir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class PrivateCluster:
    def __init__(self):
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="thebot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            [self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]
        )
        self.start()

    def _as_postgres(self, command: list) -> None:
        command = [str(part) for part in command]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start(self) -> None:
        self._as_postgres([self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", self._options(), "-w", "start"])

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every session is ended, then the server starts again."""
        command = [self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", self._options(), "-m", "fast", "-w"]
        self._as_postgres([*command, "restart"])

    def stop(self) -> None:
        self._as_postgres([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def query(self, name: str, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._as_postgres([self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

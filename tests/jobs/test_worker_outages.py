"""The job worker, the session-revocation loop and readiness against a private PostgreSQL cluster that the tests
stop and start (tests/pgcluster.py), with real `manage.py run_worker` and Daphne processes.

Every wait is on a condition (a line in a log, a row, a file), bounded only to end a broken run.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.chat.daphne import ROOT, DaphneProcess, seed, server_env
from tests.pgcluster import PrivateCluster, unavailable_reason

pytestmark = [pytest.mark.slow, pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))]

FAST = {
    "WORKER_BACKOFF_MAX_SECONDS": "1",
    "WORKER_HEARTBEAT_SECONDS": "0.2",
    "DATABASE_POOL_TIMEOUT": "2",
    "LOG_LEVEL": "INFO",
}


def wait_for(condition, what: str, limit: float = 120.0):
    """Poll `condition` until it returns something true; `limit` only ends a broken run."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def cluster():
    cluster = PrivateCluster()
    yield cluster
    cluster.remove()


@pytest.fixture
def database(cluster):
    url = cluster.create_database("thebot")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=_env(url),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return url


def _env(url: str, **extra: str) -> dict:
    env = server_env(url, **{**FAST, **extra})
    for name in ("REDIS_URL", "CACHE_KEY_PREFIX"):
        env.pop(name, None)
    return env


class WorkerProcess:
    def __init__(self, url: str, log: Path, **extra: str):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-scheduler"],
            cwd=ROOT,
            env=_env(url, **extra),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def lines(self, message: str) -> int:
        count = 0
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                count += json.loads(line).get("message") == message
            except ValueError:
                continue
        return count

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


@pytest.fixture
def workers():
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def enqueue(url: str, task: str, *args) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.jobs.enqueue_job", task, json.dumps(args)],
        cwd=ROOT,
        env=_env(url),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


def job_row(cluster: PrivateCluster, job_id: str) -> tuple | None:
    rows = cluster.query(
        "thebot", "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE id = %s", (job_id,)
    )
    return rows[0] if rows else None


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_worker_outlives_database_outages_and_runs_jobs_enqueued_after(cluster, database, workers, tmp_path):
    out = tmp_path / "out.txt"
    worker = WorkerProcess(database, tmp_path / "worker.log")
    workers.append(worker)
    enqueue(database, "append_line", str(out), "before")
    wait_for(lambda: "before" in lines_of(out), "the first job")

    for outage in (1, 2):  # it used to crash on the first outage, and again on a second one
        waits = worker.lines("database unavailable; worker waits")
        cluster.stop()
        wait_for(
            lambda w=waits: worker.lines("database unavailable; worker waits") >= w + 2 or not worker.alive(),
            "backoff while down",
        )
        assert worker.alive(), worker.log.read_text()[-3000:]
        cluster.start()
        enqueue(database, "append_line", str(out), f"after outage {outage}")
        wait_for(lambda o=outage: f"after outage {o}" in lines_of(out), f"a job after outage {outage}")
        assert worker.alive()

    assert lines_of(out) == ["before", "after outage 1", "after outage 2"]
    beats = cluster.query("thebot", "SELECT count(*) FROM jobs_workerheartbeat")
    assert beats == [(1,)]


def test_job_of_a_killed_worker_is_reclaimed_and_its_effect_happens_once(cluster, database, workers, tmp_path):
    effects, release = tmp_path / "effects.txt", tmp_path / "release"
    lease = {"WORKER_LEASE_SECONDS": "1"}
    first = WorkerProcess(database, tmp_path / "first.log", **lease)
    workers.append(first)
    job_id = enqueue(database, "effect_then_wait", str(effects), str(release))
    wait_for(lambda: lines_of(effects) == ["effect"], "the effect of the first run")
    os.kill(first.process.pid, signal.SIGKILL)  # mid-job: after the effect, before the job finishes
    first.process.wait()
    assert job_row(cluster, job_id)[0] == "RUNNING"

    second = WorkerProcess(database, tmp_path / "second.log", **lease)
    workers.append(second)
    release.touch()
    wait_for(lambda: job_row(cluster, job_id)[0] == "SUCCESSFUL", "the job to be reclaimed and finished")

    _, worker_ids = job_row(cluster, job_id)
    assert len(worker_ids) == 2  # run by the killed worker, then by the second one
    assert lines_of(effects) == ["effect"]  # the re-run found the recorded effect and did not repeat it
    assert second.lines("job lease expired; job queued again") == 1
    assert second.lines("job effect already done; not repeated") == 1


def test_readiness_names_a_stopped_database_and_a_missing_worker(cluster, database):
    server = DaphneProcess(database, **{**_env(database), "READINESS_EXPECT_WORKER": "1", "LOG_LEVEL": "WARNING"})
    try:
        cluster.stop()
        response = httpx.get(server.base_url + "/api/health/ready/", timeout=30)
    finally:
        server.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["checks"]["database"].startswith("failing")
    assert body["checks"]["worker"].startswith("failing")
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["channel_layer"] == "ok"
    assert body["detail"] == "Failing: database, worker"


@pytest.fixture
def silent_database():
    """A TCP port that accepts connections and never answers: a database that hangs rather than refuses."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgres://postgres@127.0.0.1:{listener.getsockname()[1]}/thebot"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_readiness_answers_within_its_deadline_when_the_database_hangs(silent_database):
    # The database check cannot finish (the pool waits DATABASE_POOL_TIMEOUT=60 s for a connection): the answer
    # can only come from the readiness deadline, and names the part that did not answer.
    env = {**_env(silent_database), "DATABASE_POOL_TIMEOUT": "60", "READINESS_TIMEOUT_SECONDS": "1"}
    server = DaphneProcess(silent_database, **env)
    try:
        response = httpx.get(server.base_url + "/api/health/ready/", timeout=30)
    finally:
        server.stop()
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "failing: timeout",
        "cache": "ok",
        "channel_layer": "ok",
    }


def test_session_check_outlives_a_database_outage(cluster):
    url = cluster.create_database("thebot")
    data = seed(url, members=1, outsiders=0, migrate=True)
    token = next(iter(data["tokens"].values()))
    server = DaphneProcess(url, **{**_env(url), "CHAT_SESSION_CHECK_SECONDS": "0.2", "LOG_LEVEL": "WARNING"})
    log = Path(server.log.name)

    def failures_logged() -> int:
        return log.read_text(errors="replace").count('"session check failed; retrying"')

    async def scenario() -> int:
        auth = {"Authorization": f"Token {token}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=auth, timeout=30) as client:
            ticket = (await client.post("/api/chat/ws-ticket/")).json()["ticket"]
            origin = f"http://127.0.0.1:{server.port}"
            async with connect(f"{server.ws_url}?ticket={ticket}", origin=origin, compression=None) as sock:
                cluster.stop()
                await asyncio.to_thread(wait_for, lambda: failures_logged() >= 2, "the check failing while down")
                cluster.start()
                assert (await client.post("/api/auth/logout/")).status_code == 204
                try:
                    async with asyncio.timeout(120):
                        while True:
                            await sock.recv()
                except ConnectionClosed as closed:
                    return closed.rcvd.code

    try:
        assert asyncio.run(scenario()) == 4401
    finally:
        server.stop()


# --- Graceful shutdown: on SIGTERM the running job finishes within WORKER_SHUTDOWN_GRACE_SECONDS and the worker
# exits 0; a job still running when the grace is over goes back to the queue at once (its run not counted as an
# attempt) and another worker runs it, its external effect happening once.
SHUTDOWN_BOUND = 120.0  # ends a broken run; never a timing assertion


@pytest.mark.heavy
def test_sigterm_lets_the_running_job_finish_and_the_worker_exits_0(cluster, database, workers, tmp_path):
    effects, release = tmp_path / "effects.txt", tmp_path / "release"
    worker = WorkerProcess(database, tmp_path / "worker.log", WORKER_SHUTDOWN_GRACE_SECONDS="600")
    workers.append(worker)
    job_id = enqueue(database, "effect_then_wait", str(effects), str(release))
    wait_for(lambda: lines_of(effects) == ["effect"], "the job to start")

    worker.process.send_signal(signal.SIGTERM)
    wait_for(lambda: worker.lines("worker stopping"), "the worker to take the signal")
    assert worker.alive()
    assert job_row(cluster, job_id)[0] == "RUNNING"
    # A job enqueued now is left for another worker.
    other = enqueue(database, "append_line", str(tmp_path / "out.txt"), "later")

    release.touch()
    assert worker.process.wait(timeout=SHUTDOWN_BOUND) == 0
    status, worker_ids = job_row(cluster, job_id)
    assert (status, len(worker_ids)) == ("SUCCESSFUL", 1)
    assert job_row(cluster, other)[0] == "READY"
    assert cluster.query("thebot", "SELECT count(*) FROM jobs_workerheartbeat") == [(0,)]


@pytest.mark.heavy
def test_a_job_running_past_the_grace_is_released_and_run_again_by_another_worker(cluster, database, workers, tmp_path):
    effects, release = tmp_path / "effects.txt", tmp_path / "release"
    first = WorkerProcess(database, tmp_path / "first.log", WORKER_SHUTDOWN_GRACE_SECONDS="0.5")
    workers.append(first)
    job_id = enqueue(database, "effect_then_wait", str(effects), str(release))
    wait_for(lambda: lines_of(effects) == ["effect"], "the job to start")

    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=SHUTDOWN_BOUND) == 0
    assert first.lines("shutdown grace over; job released to the queue") == 1
    # Back in the queue at once (no lease to wait for), its interrupted run not counted as an attempt.
    assert job_row(cluster, job_id) == ("READY", [])

    second = WorkerProcess(database, tmp_path / "second.log")
    workers.append(second)
    release.touch()
    wait_for(lambda: job_row(cluster, job_id)[0] == "SUCCESSFUL", "another worker to run the job")
    assert len(job_row(cluster, job_id)[1]) == 1
    assert lines_of(effects) == ["effect"]  # the re-run found the recorded effect and did not repeat it


@pytest.mark.heavy
def test_an_idle_worker_exits_0_on_sigterm(cluster, database, workers, tmp_path):
    worker = WorkerProcess(database, tmp_path / "idle.log")
    workers.append(worker)
    wait_for(lambda: cluster.query("thebot", "SELECT count(*) FROM jobs_workerheartbeat") == [(1,)], "a heartbeat")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=SHUTDOWN_BOUND) == 0
    assert cluster.query("thebot", "SELECT count(*) FROM jobs_workerheartbeat") == [(0,)]

"""Read replicas on the local production topology (`make prod-local`): the two Daphnes have
DATABASE_REPLICA_URLS pointing at the streaming replica (docs/operations.md "Read replicas").

- the replica serves reads: with its replay paused, another user's read shows the row as it was, while the writer
  reads its own write (from the primary, for DATABASE_STICKY_SECONDS, across both processes);
- a replica lagging past DATABASE_REPLICA_MAX_LAG is skipped: still paused, the same read soon shows the new row;
- the replica stopped under a small load: every request answered 200 (none 5xx), then the replica started again.

The replica is always resumed and started again, so the other prodlocal tests find it streaming.
"""

import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from tests.deploy.test_prod_local import AS_PROXY, daphne_url, login

pytestmark = [
    pytest.mark.slow,
    pytest.mark.heavy,
    pytest.mark.prodlocal,
    pytest.mark.xdist_group("prod_local"),
    pytest.mark.timeout(1200),
]

STICKY_KEY = "{prefix}:1:db-sticky:{user_id}"  # config.db_router's marker, as Django's cache stores it


def client(state: dict, index: int) -> httpx.Client:
    return httpx.Client(base_url=daphne_url(state, index), headers=AS_PROXY, timeout=30)


def wait_until(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def sticky_gone(state: dict, *user_ids: int) -> bool:
    """No user of these has the "read the primary" marker any more (their logins wrote)."""
    connection = redis.Redis(host="127.0.0.1", port=state["ports"]["redis"], socket_timeout=2)
    try:
        keys = [STICKY_KEY.format(prefix=state["cache_prefix"], user_id=user_id) for user_id in user_ids]
        return connection.exists(*keys) == 0
    finally:
        connection.close()


def replica_sql(state: dict, sql: str, params=()):
    with psycopg.connect(state["replica_url"], autocommit=True) as replica:
        return replica.execute(sql, params).fetchone()


def primary_sql(state: dict, sql: str, params=()):
    with psycopg.connect(state["database_url"], autocommit=True) as primary:
        return primary.execute(sql, params).fetchone()


def replica_commits(state: dict) -> int:
    return replica_sql(state, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'thebot'")[0]


def pg_ctl(state: dict, *args: str) -> None:
    root = Path(state["pg_root"])
    command = [str(Path(state["pg_bin"]) / "pg_ctl"), "-D", str(root / "replica"), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=180, cwd="/")


def replica_streaming(state: dict) -> bool:
    try:
        row = primary_sql(state, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
    except psycopg.Error:
        return False
    return row[0] > 0


def start_replica(state: dict) -> None:
    root, port = state["pg_root"], state["ports"]["replica"]
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    pg_ctl(state, "-l", str(Path(root) / "replica.log"), "-o", options, "-w", "-t", "120", "start")
    wait_until("the replica to stream again", lambda: replica_streaming(state), timeout=120)


def admin_and_user(state: dict, http: httpx.Client) -> tuple[dict, dict, dict]:
    """The admin's and a fresh demo user's Authorization headers, and the user's own profile."""
    admin, user = state["logins"]["logins"]["admin"], state["logins"]["pool"]["teacher"][0]
    admin_auth = {"Authorization": f"Bearer {login(http, admin['email'], admin['password'])}"}
    user_auth = {"Authorization": f"Bearer {login(http, user['email'], user['password'])}"}
    me = http.get("/api/profile/me/", headers=user_auth).json()
    return admin_auth, user_auth, me


def test_the_replica_serves_reads_while_the_writer_reads_its_own_writes(topology):
    first, second = client(topology, 1), client(topology, 2)
    try:
        admin_auth, user_auth, me = admin_and_user(topology, first)
        admin_id = first.get("/api/profile/me/", headers=admin_auth).json()["id"]
        wait_until("the logins' sticky markers to expire", lambda: sticky_gone(topology, admin_id, me["id"]))
        before = first.get(f"/api/admin/users/{me['id']}/", headers=admin_auth).json()["last_name"]
        new_name = "Replica-" + uuid.uuid4().hex[:8]
        replica_sql(topology, "SELECT pg_wal_replay_pause()")
        try:
            written = first.patch("/api/profile/me/", json={"last_name": new_name}, headers=user_auth)
            assert written.status_code == 200, written.text
            on_primary = primary_sql(topology, "SELECT last_name FROM accounts_user WHERE id = %s", (me["id"],))
            assert on_primary == (new_name,)
            # The writer, on the other process: its own write (the primary, for DATABASE_STICKY_SECONDS).
            assert second.get("/api/profile/me/", headers=user_auth).json()["last_name"] == new_name
            # Another user, either process: the replica, whose replay is paused.
            for http in (first, second):
                seen = http.get(f"/api/admin/users/{me['id']}/", headers=admin_auth)
                assert seen.status_code == 200, seen.text
                assert seen.json()["last_name"] == before
            # Still paused: once the replay lag passes DATABASE_REPLICA_MAX_LAG (10 s), the replica is skipped.
            wait_until(
                "the lagging replica to be skipped",
                lambda: all(
                    http.get(f"/api/admin/users/{me['id']}/", headers=admin_auth).json()["last_name"] == new_name
                    for http in (first, second)
                ),
            )
        finally:
            replica_sql(topology, "SELECT pg_wal_replay_resume()")
        # Replayed again: the replica serves reads again (rechecked every DATABASE_REPLICA_CHECK_SECONDS) and
        # shows the write.
        wait_until(
            "the replica to replay the write",
            lambda: (
                replica_sql(topology, "SELECT last_name FROM accounts_user WHERE id = %s", (me["id"],)) == (new_name,)
            ),
        )
    finally:
        first.close()
        second.close()


def _load(state: dict, auth: dict, statuses: Counter, stop: threading.Event, index: int) -> None:
    with client(state, 1 + index % 2) as http:
        while not stop.is_set():
            try:
                response = http.get("/api/scheduling/lessons/?page_size=5", headers=auth)
                statuses[response.status_code] += 1
            except httpx.HTTPError as error:
                statuses[type(error).__name__] += 1


def test_the_replica_stopped_reads_fall_back_to_the_primary_with_no_5xx(topology):
    with client(topology, 1) as http:
        _, user_auth, me = admin_and_user(topology, http)
    wait_until("the login's sticky marker to expire", lambda: sticky_gone(topology, me["id"]))
    reads_before = replica_commits(topology)
    statuses: Counter = Counter()
    stop = threading.Event()
    workers = [threading.Thread(target=_load, args=(topology, user_auth, statuses, stop, i)) for i in range(4)]
    for worker in workers:
        worker.start()
    stopped = False
    try:
        wait_until("load before the stop", lambda: sum(statuses.values()) >= 40)
        # The replica serves the load: at least a transaction per request (each request reads a count and a page;
        # the health checks add one every DATABASE_REPLICA_CHECK_SECONDS per process). Backends report their
        # statistics within seconds, hence the wait.
        wait_until("the replica to count the load's reads", lambda: replica_commits(topology) >= reads_before + 40)
        pg_ctl(topology, "-m", "fast", "-w", "stop")
        stopped = True
        at_stop = sum(statuses.values())
        wait_until("load after the stop", lambda: sum(statuses.values()) >= at_stop + 200, timeout=180)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        if stopped:
            start_replica(topology)
    print(f"\nreplica stopped under load: {dict(statuses)} ({at_stop} before the stop)")
    assert set(statuses) == {200}, dict(statuses)

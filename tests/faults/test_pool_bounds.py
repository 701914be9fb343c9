"""No connection leak under load: two real Daphne processes with a small pool (DATABASE_POOL_MAX) against a private
PostgreSQL cluster (tests/pgcluster.py), many more concurrent clients than pooled connections (reads, chat writes,
readiness probes, whose checks run in threads of their own), while a sampler polls `pg_stat_activity`. The
application's backends never exceed processes x DATABASE_POOL_MAX, none is left `idle in transaction`, no request
answers 500 (a request that waited DATABASE_POOL_TIMEOUT for a connection would be 503), and the same holds for a
second burst after the first (a leak would have used up the pool). Figures are printed, never asserted."""

import asyncio
import statistics
import threading
import time

import httpx
import psycopg
import pytest

from tests.chat.daphne import DaphneProcess, seed
from tests.pgcluster import PrivateCluster, unavailable_reason

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

PROCESSES = 2
POOL_MAX = 4
CLIENTS = 48  # concurrent clients, 6 for each pooled connection
REQUESTS_PER_CLIENT = 20
APP_BACKENDS = (
    "SELECT count(*), count(*) FILTER (WHERE state = 'idle in transaction') FROM pg_stat_activity"
    " WHERE datname = 'thebot' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


class Sampler(threading.Thread):
    """Polls the application's backends on its own connection (not counted) until stopped; keeps the maximum."""

    def __init__(self, url: str):
        super().__init__(daemon=True, name="pg-stat-activity-sampler")
        self.url = url
        self.most = 0
        self.samples = 0
        self.halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.halt.is_set():
                (count, _idle_in_transaction) = conn.execute(APP_BACKENDS).fetchone()
                self.most = max(self.most, count)
                self.samples += 1
                self.halt.wait(0.01)

    def stop(self) -> None:
        self.halt.set()
        self.join()


@pytest.fixture(scope="module")
def topology():
    cluster = PrivateCluster()
    servers: list[DaphneProcess] = []
    try:
        url = cluster.create_database("thebot")
        env = {
            "DATABASE_POOL_MIN": "1",
            "DATABASE_POOL_MAX": str(POOL_MAX),
            "DATABASE_POOL_TIMEOUT": "3",
            "REDIS_URL": "",
            "CACHE_KEY_PREFIX": "",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
            "CHAT_SEND_PER_SECOND": "100000",
            "LOG_LEVEL": "WARNING",
        }
        data = seed(url, members=CLIENTS, outsiders=0, migrate=True)
        servers.extend(DaphneProcess(url, **env) for _ in range(PROCESSES))
        yield cluster, url, servers, data
    finally:
        for server in servers:
            server.stop()
        cluster.remove()


async def burst(servers: list[DaphneProcess], data: dict) -> tuple[list[int], list[float]]:
    tokens = list(data["tokens"].values())
    room = data["room"]
    statuses: list[int] = []
    durations: list[float] = []

    async def client(index: int) -> None:
        headers = {"Authorization": f"Token {tokens[index % len(tokens)]}"}
        base = servers[index % len(servers)].base_url
        for number in range(REQUESTS_PER_CLIENT):
            kind = (index + number) % 8
            started = time.monotonic()
            if kind == 0:
                body = {"text": f"c{index}-{number}", "client_id": f"c{index}-{number}"}
                response = await http.post(f"{base}/api/chat/rooms/{room}/messages/", json=body, headers=headers)
            elif kind == 1:
                response = await http.get(f"{base}/api/health/ready/")
            elif kind in (2, 3):
                response = await http.get(f"{base}/api/chat/rooms/{room}/messages/?limit=20", headers=headers)
            elif kind in (4, 5):
                response = await http.get(f"{base}/api/chat/rooms/", headers=headers)
            else:
                response = await http.get(f"{base}/api/profile/me/", headers=headers)
            durations.append(time.monotonic() - started)
            statuses.append(response.status_code)

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        await asyncio.gather(*(client(index) for index in range(CLIENTS)))
    return statuses, durations


def test_connections_stay_within_processes_times_pool_max(topology):
    cluster, url, servers, data = topology
    bound = PROCESSES * POOL_MAX
    for round_number in (1, 2):  # a leak would exhaust the pool by the second burst
        sampler = Sampler(url)
        sampler.start()
        started = time.monotonic()
        statuses, durations = asyncio.run(burst(servers, data))
        took = time.monotonic() - started
        sampler.stop()
        (_after, idle_in_transaction) = cluster.query("thebot", APP_BACKENDS)[0]
        counts = {status: statuses.count(status) for status in sorted(set(statuses))}
        durations.sort()
        print(
            f"\nburst {round_number}: {len(statuses)} requests from {CLIENTS} clients on {PROCESSES} Daphne with"
            f" DATABASE_POOL_MAX={POOL_MAX} in {took:.1f} s ({len(statuses) / took:.0f}/s); statuses {counts};"
            f" median {statistics.median(durations) * 1000:.0f} ms, slowest {durations[-1] * 1000:.0f} ms;"
            f" most backends seen {sampler.most} (bound {bound}) in {sampler.samples} samples"
        )
        assert sampler.samples > 0
        assert sampler.most <= bound, f"{sampler.most} backends for {PROCESSES} processes x pool {POOL_MAX}"
        assert idle_in_transaction == 0
        assert 500 not in counts, counts
        assert set(counts) <= {200, 201, 503}, counts
        assert counts.get(200, 0) + counts.get(201, 0) > 0

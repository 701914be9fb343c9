"""A cache outage degrades the cached endpoints to the database: no error, no stale answer, one timeout per period.

A real redis-server of the test's own (tests/chat/redis_server.py, on a port of this suite's range) is paused
(SIGSTOP: every command waits for its socket timeout) and then killed (connection refused). Throughout, the cached
endpoints answer 200 with what the database holds; after the first failure the breaker skips the cache (the process
does not contact Redis again until `API_CACHE_BREAKER_SECONDS` have passed, moved here with time_machine), and a
write made during the outage, whose invalidation could not be written, still invalidates the entry cached before it
once Redis answers again. Heavy: it waits for real socket timeouts.
"""

import socket
import tempfile
import time

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from config.cache import BREAKER
from core import caching
from tests import isolation
from tests.accounts.factories import AdminFactory, TeacherFactory
from tests.chat.redis_server import RedisServer
from tests.conftest import client_for

# Not in `make test-slow` yet (`make test-cache-outage`): after it, the admin-users fuzz tests of the same worker got
# no 2xx (2026-11-30), though the breaker is closed again at teardown; to trace.
pytestmark = [pytest.mark.heavy, pytest.mark.ownprocess, pytest.mark.django_db]
PORTS = range(21100, 21200)  # this suite's range


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class OwnRedis(RedisServer):
    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = tempfile.mkdtemp(prefix="thebot-h1-redis-")
        self.process = None
        self.start()


@pytest.fixture
def redis_cache():
    server = OwnRedis()
    options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "health_check_interval": 10}
    config = {
        "default": {
            "BACKEND": "config.cache.SharedRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "h1-outage",
            "OPTIONS": options,
        }
    }
    try:
        with override_settings(CACHES=config):
            isolation.cache_clear()
            yield server
    finally:
        server.stop()
        caching.reset()
        BREAKER.answered()  # the process's Redis breaker (config/cache.py), opened by the outage, closed again


def _timed_get(client, path):
    started = time.perf_counter()
    response = client.get(path)
    return response, time.perf_counter() - started


def test_outage_reads_the_database_and_loses_no_invalidation(redis_cache):
    teacher, admin = TeacherFactory(first_name="Before"), AdminFactory()
    client, admin_client = client_for(teacher), client_for(admin)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        first, _ = _timed_get(client, "/api/profile/me/")
        hits = caching.stats["hits"]
        assert client.get("/api/profile/me/").json() == first.json()
        assert caching.stats["hits"] == hits + 1  # warm, from Redis

        redis_cache.pause()
        errors = caching.stats["errors"]
        durations = []
        for _ in range(5):
            response, seconds = _timed_get(client, "/api/profile/me/")
            assert response.status_code == 200
            assert response.json()["first_name"] == "Before"
            durations.append(seconds)
        # One failure opened the breaker; the four requests after it did not touch Redis.
        assert caching.stats["errors"] == errors + 1
        # A write during the outage: its invalidation cannot be written now.
        renamed = admin_client.patch(f"/api/admin/users/{teacher.pk}/", {"first_name": "After"}, format="json")
        assert renamed.status_code == 200
        assert client.get("/api/profile/me/").json()["first_name"] == "After"  # the database's answer
        print(f"\nRedis paused: profile/me took {', '.join(f'{s * 1000:.0f} ms' for s in durations)}")

        redis_cache.resume()
        traveller.shift(settings.API_CACHE_BREAKER_SECONDS + 1)
        # The entry cached before the outage still sits in Redis; the pending invalidation retires it.
        assert client.get("/api/profile/me/").json()["first_name"] == "After"
        assert client.get("/api/profile/me/").json()["first_name"] == "After"

        redis_cache.kill()
        traveller.shift(settings.API_CACHE_BREAKER_SECONDS + 1)
        response, seconds = _timed_get(client, "/api/profile/me/")
        assert response.status_code == 200 and response.json()["first_name"] == "After"
        listed = client.get("/api/materials/subjects/")
        assert listed.status_code == 200
        print(f"Redis killed: profile/me took {seconds * 1000:.0f} ms")

"""config.cache.RedisBreaker against a real redis-server that the tests pause (SIGSTOP) and resume: after one
command timed out, the process's next commands fail at once without reaching Redis (a request pays one timeout,
not one per command); after REDIS_BREAKER_SECONDS one command probes Redis again, and its answer closes the
breaker. The breaker's clock is injected; nothing here waits on the wall clock except Redis' own socket timeout."""

import uuid

import pytest
import redis

from config.cache import BREAKER_OPEN_MESSAGE, BreakerConnection, RedisBreaker, SharedRedisCache
from tests.chat.redis_server import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server binary")

TIMEOUT = 0.3  # the socket timeout of the clients under test, seconds


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server():
    process = RedisServer()
    yield process
    process.stop()


@pytest.fixture
def paused(server):
    server.pause()
    yield server
    server.resume()


@pytest.fixture
def breaker(settings):
    settings.REDIS_BREAKER_SECONDS = 2.0
    settings.REDIS_SOCKET_TIMEOUT = TIMEOUT
    settings.REDIS_CONNECT_TIMEOUT = TIMEOUT
    return RedisBreaker(clock=Clock())


def cache_for(server: RedisServer, breaker: RedisBreaker) -> SharedRedisCache:
    """A cache of its own (its own client and pool) whose connections report to `breaker`."""
    name = f"Connection{uuid.uuid4().hex}"
    connection = type(name, (BreakerConnection,), {"breaker": breaker})
    # A health check before (nearly) every command: the probe's own PING must not be refused by its own window.
    options = {"socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT, "connection_class": connection}
    options["health_check_interval"] = 0.001
    return SharedRedisCache(server.url, {"KEY_PREFIX": f"h-breaker-{uuid.uuid4().hex[:6]}", "OPTIONS": options})


def test_the_project_cache_connects_through_the_breaker(server):
    cache = SharedRedisCache(server.url, {"OPTIONS": {"socket_timeout": TIMEOUT}})
    assert cache._cache._get_connection_pool(write=True).connection_class is BreakerConnection


def test_after_one_timeout_commands_fail_at_once_until_a_probe_answers(server, breaker):
    cache = cache_for(server, breaker)
    cache.set("k", "v")
    server.pause()
    try:
        with pytest.raises(redis.TimeoutError):  # this one waited for Redis: the socket timeout
            cache.get("k")
        tripped = breaker.trips
        assert tripped >= 1  # (a timed-out health-check PING and its command may both count)
        for _ in range(5):  # these never reach Redis
            with pytest.raises(redis.ConnectionError, match=BREAKER_OPEN_MESSAGE):
                cache.get("k")
        breaker.clock.now += 2.0  # the open period is over: the next command probes, and Redis is still paused
        with pytest.raises(redis.TimeoutError):
            cache.get("k")
        assert breaker.trips > tripped
        with pytest.raises(redis.ConnectionError, match=BREAKER_OPEN_MESSAGE):
            cache.set("k", "w")
    finally:
        server.resume()
    with pytest.raises(redis.ConnectionError, match=BREAKER_OPEN_MESSAGE):
        cache.get("k")  # Redis is back, but the breaker is still open
    breaker.clock.now += 2.0
    assert cache.get("k") == "v"  # the probe answers and closes the breaker
    cache.set("k", "w")
    assert cache.get("k") == "w"
    assert not breaker.is_open()


def test_an_error_reply_is_an_answer(server, breaker):
    cache = cache_for(server, breaker)
    cache.set("text", "not a number")
    client = cache._cache.get_client("text", write=True)
    with pytest.raises(redis.ResponseError):
        client.incr(cache.make_and_validate_key("text"))
    assert breaker.trips == 0 and not breaker.is_open()


def test_the_breaker_off_lets_every_command_wait(server, breaker, settings):
    settings.REDIS_BREAKER_SECONDS = 0
    cache = cache_for(server, breaker)
    cache.set("k", "v")
    server.pause()
    try:
        for _ in range(2):
            with pytest.raises(redis.TimeoutError):
                cache.get("k")
    finally:
        server.resume()
    assert breaker.trips == 0
    assert cache.get("k") == "v"

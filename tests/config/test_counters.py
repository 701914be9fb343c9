"""The atomic window counters behind the request throttles and the failed-login limits (config/counters.py), on the
configured cache (the embedded cache on SQLite, Redis in the PostgreSQL run) and on any other backend."""

import os
import threading

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from config import counters

WINDOW = 60.0
T0 = 1_800_000_000.0  # the application's clock is passed in: windows never wait for real time


def test_hits_count_up_and_a_window_ends_by_the_applications_clock():
    assert [counters.hit("t:a", WINDOW, now=T0 + offset).count for offset in (0, 1, 59.9)] == [1, 2, 3]
    window = counters.hit("t:a", WINDOW, now=T0 + 59.99)
    assert (window.count, window.start) == (4, T0)
    assert window.retry_after(T0 + 59.99) == 1
    assert window.retry_after(T0 + 0.5) == 60

    after = counters.hit("t:a", WINDOW, now=T0 + 60)  # the window opened by the first hit has ended

    assert (after.count, after.start) == (1, T0 + 60)


def test_release_gives_a_hit_back_to_its_own_window_only():
    first = counters.hit("t:b", WINDOW, now=T0)
    counters.hit("t:b", WINDOW, now=T0 + 1)
    counters.release("t:b", first.start)
    assert counters.hit("t:b", WINDOW, now=T0 + 2).count == 2

    counters.hit("t:b", WINDOW, now=T0 + 61)  # a new window
    counters.release("t:b", first.start)  # a release from the old one changes nothing
    assert counters.hit("t:b", WINDOW, now=T0 + 62).count == 2


def test_reset_forgets_the_key():
    for _ in range(3):
        counters.hit("t:c", WINDOW)
    counters.reset("t:c")
    assert counters.hit("t:c", WINDOW).count == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_hits_from_eight_threads_each_get_their_own_count():
    """400 hits from 8 threads at once, each thread with its own cache client (connection on Redis): every count
    from 1 to 400 is handed out exactly once."""
    counts: list[int] = []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(50):
            counts.append(counters.hit("t:parallel", WINDOW).count)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(counts) == list(range(1, 401))


def test_other_backends_count_with_add_and_incr():
    plain = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "counters-test"}}
    with override_settings(CACHES=plain):
        first = counters.hit("t:d", WINDOW)
        assert [first.count, counters.hit("t:d", WINDOW).count] == [1, 2]
        counters.release("t:d", first.start)
        assert counters.hit("t:d", WINDOW).count == 2
        counters.reset("t:d")
        assert counters.hit("t:d", WINDOW).count == 1
        caches["default"].clear()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis)")
def test_on_redis_a_counter_is_one_hash_that_expires_with_its_window():
    counters.hit("t:e", WINDOW)
    key = caches["default"].make_key("t:e")
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        assert client.type(key) == b"hash"
        assert 0 < client.pttl(key) <= WINDOW * 1000

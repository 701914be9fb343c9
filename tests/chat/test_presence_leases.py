"""Presence leases (chat/presence.py) on the real cache of the run: Redis when REDIS_URL is set (Lua scripts, the
Redis server's clock), else the embedded cache. Parallel connects are real threads; expiry is waited for as a
condition, never slept through. The end-to-end proof with a killed Daphne is in test_faults.py."""

import threading
import time

import pytest

from chat import presence
from tests import isolation

USER, OTHER = 7001, 7002


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.01)


@pytest.fixture
def leases():
    """Every lease taken in the test is given back at the end (this process's renewal list stays empty)."""
    taken: list[tuple[int, str]] = []
    yield taken
    for user_id, socket_id in taken:
        presence.presence_disconnect(user_id, socket_id)


def test_parallel_connects_take_exactly_the_cap(leases):
    barrier = threading.Barrier(12)
    results: list[tuple[str, bool, bool]] = []

    def connect():
        socket_id = presence.new_socket_id()
        barrier.wait()
        admitted, came = presence.presence_connect(USER, socket_id, cap=3)
        results.append((socket_id, admitted, came))

    threads = [threading.Thread(target=connect) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    admitted = [socket_id for socket_id, ok, _ in results if ok]
    assert len(admitted) == 3
    assert sum(came for _, _, came in results) == 1  # one "came online", for the first lease
    assert presence.online_among([USER, OTHER]) == {USER}
    # Giving them back in parallel: exactly one release finds the user offline (one announcement).
    offline: list[bool] = []
    threads = [
        threading.Thread(target=lambda s=socket_id: offline.append(presence.presence_disconnect(USER, s)))
        for socket_id in admitted
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(offline) == [False, False, True]
    assert presence.online_among([USER]) == set()


def test_an_unrenewed_lease_expires_and_one_sweep_announces_the_user_offline(leases, settings):
    settings.CHAT_PRESENCE_LEASE_SECONDS = 0.3
    dead = presence.new_socket_id()  # a socket of a process that died: nobody renews its lease
    assert presence.presence_connect(USER, dead, cap=1) == (True, True)
    assert presence.presence_connect(USER, presence.new_socket_id(), cap=1)[0] is False  # the cap holds

    wait_for(lambda: presence.online_among([USER]) == set(), "the lease ran out")
    assert presence.sweep() == [USER]  # claimed once: this caller announces the user offline
    assert presence.sweep() == []
    assert presence.presence_disconnect(USER, dead) is False  # a late release announces nothing again

    # The expired lease no longer counts against the cap; the user comes online again.
    settings.CHAT_PRESENCE_LEASE_SECONDS = 3600
    fresh = presence.new_socket_id()
    leases.append((USER, fresh))
    assert presence.presence_connect(USER, fresh, cap=1) == (True, True)


def test_renewal_puts_back_the_leases_the_cache_lost(leases, settings):
    settings.CHAT_PRESENCE_LEASE_SECONDS = 3600
    socket_id = presence.new_socket_id()
    leases.append((OTHER, socket_id))
    assert presence.presence_connect(OTHER, socket_id) == (True, True)
    isolation.cache_clear()  # as a Redis restart without persistence does
    assert presence.online_among([OTHER]) == set()

    assert presence.refresh() >= 1  # (sockets of earlier in-process tests that never closed may be held too)
    assert presence.online_among([OTHER]) == {OTHER}
    assert presence.sweep() == []

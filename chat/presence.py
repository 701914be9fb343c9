"""Who is online, shared by every process through the cache.

A counter of open sockets per user: a user is online while it is above zero, so several sockets (tabs,
devices, processes) count correctly. The same counter caps the sockets a user may hold
(`CHAT_MAX_SOCKETS_PER_USER`): it is incremented atomically, so concurrent connects in any number of processes
never let more through. Every socket that counted itself decrements on the way out, whatever ended it (the
consumer's cleanup runs in a `finally`). The counter expires after a day, which bounds the damage of a process
that died without decrementing.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger("thebot.chat")
PRESENCE_TTL_SECONDS = 24 * 60 * 60


def _key(user_id: int) -> str:
    return f"chat:online:{user_id}"


def presence_connect(user_id: int) -> int:
    """Count one more socket; the user's number of open sockets with this one (1: they just came online)."""
    key = _key(user_id)
    cache.add(key, 0, PRESENCE_TTL_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PRESENCE_TTL_SECONDS)
        return 1


def presence_disconnect(user_id: int) -> bool:
    """Count one socket less; True when the user's last socket closed."""
    try:
        remaining = cache.decr(_key(user_id))
    except ValueError:
        return True
    if remaining <= 0:
        cache.set(_key(user_id), 0, PRESENCE_TTL_SECONDS)
        return True
    return False


def online_among(user_ids: list[int]) -> set[int]:
    counts = cache.get_many([_key(user_id) for user_id in user_ids])
    return {user_id for user_id in user_ids if counts.get(_key(user_id), 0) > 0}

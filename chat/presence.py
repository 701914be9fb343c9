"""Who is online, and how many sockets a user holds: per-socket leases shared by every process.

Each open socket holds a lease: a member (the socket's id) of its user's sorted set, scored with its expiry. A
user is online while they hold a live lease, and holds at most `CHAT_MAX_SOCKETS_PER_USER` live leases. Each
process renews the leases of its own sockets every `CHAT_PRESENCE_REFRESH_SECONDS` (one task per process, while
it has sockets); a socket that closes gives its lease back at once, whatever ended it (the consumer's cleanup
runs in a `finally`). A process that died without cleaning up (SIGKILL, out of memory) renews nothing: its
leases expire after `CHAT_PRESENCE_LEASE_SECONDS`, so its users' sockets stop counting against the cap, and the
next sweep of any live process announces them offline. The counter this replaces was decremented on a clean
close only: after a crash users stayed online, and counted against the cap, for a day.

An index (user -> the latest expiry of their leases) lets a sweep find the users whose last lease expired without
scanning every user. Every step is atomic (a Lua script on Redis; a process lock over the embedded cache, which
serves one process), and exactly one caller learns that a user went offline: the one that removed the user from
the index (the release of their last lease, or the sweep that found it expired). Times on Redis are the Redis
server's clock (`TIME`), so the application servers' clocks need not agree.
"""

import asyncio
import logging
import threading
import time
import uuid

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from chat import selectors
from chat.broadcast import deliver_to_users, event_text

logger = logging.getLogger("thebot.chat")

SWEEP_BATCH = 500  # users whose leases expired, claimed per sweep at most

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: the user's leases, the index. ARGV: user id, socket id, lease (ms), cap.
# {admitted 0/1, live leases with this one, 1 when the user came online: they were not in the index}
_ACQUIRE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[4]) then return {0, held, 0} end
local expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiry, ARGV[2])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
local came = redis.call('ZADD', KEYS[2], 'GT', expiry, ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
return {1, held + 1, came}
"""
)

# KEYS: the user's leases, the index. ARGV: user id, socket id. 1 when the user went offline (announce it).
_RELEASE = (
    _NOW
    + """
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('ZADD', KEYS[2], 'XX', last[2], ARGV[1])
  return 0
end
redis.call('DEL', KEYS[1])
return redis.call('ZREM', KEYS[2], ARGV[1])
"""
)

# KEYS: the index. ARGV: lease (ms), then user id, socket id, user's leases key, ... Renews (or re-creates,
# after Redis lost them) the leases of this process's sockets.
_REFRESH = (
    _NOW
    + """
local expiry = now + tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  redis.call('ZADD', ARGV[i + 2], expiry, ARGV[i + 1])
  redis.call('PEXPIRE', ARGV[i + 2], 2 * tonumber(ARGV[1]))
  redis.call('ZADD', KEYS[1], 'GT', expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], 86400000)
return 0
"""
)

# KEYS: the index. ARGV: the prefix of the users' leases keys, batch size. The users found offline, claimed
# (removed from the index) by this call only.
_SWEEP = (
    _NOW
    + """
local claimed = {}
for _, user in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local key = ARGV[1] .. user
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('ZADD', KEYS[1], last[2], user)
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], user)
    table.insert(claimed, user)
  end
end
return claimed
"""
)

# KEYS: the index. ARGV: user ids. Those with a live lease.
_ONLINE = (
    _NOW
    + """
local online = {}
for _, user in ipairs(ARGV) do
  local expiry = redis.call('ZSCORE', KEYS[1], user)
  if expiry and tonumber(expiry) > now then table.insert(online, user) end
end
return online
"""
)

INDEX_KEY = "chat:leases"
# The index outlives the leases (its members are removed by releases and sweeps); its expiry only collects the
# garbage of a deployment that stopped. A user's leases key expires after twice the lease.
INDEX_TTL_SECONDS = 24 * 60 * 60


def _leases_key(user_id: int) -> str:
    return f"chat:leases:{user_id}"


def lease_seconds() -> float:
    return settings.CHAT_PRESENCE_LEASE_SECONDS


def refresh_seconds() -> float:
    return settings.CHAT_PRESENCE_REFRESH_SECONDS


def new_socket_id() -> str:
    return uuid.uuid4().hex


# --- Redis ------------------------------------------------------------------------------------------------------
def _cache():
    return caches["default"]  # the backend itself (`django.core.cache.cache` is a proxy to it)


def _on_redis() -> bool:
    return isinstance(_cache(), RedisCache)


def _run(script: str, keys: list[str], args: list):
    cache = _cache()
    made = [cache.make_and_validate_key(key) for key in keys]
    return cache._cache.get_client(made[0], write=True).eval(script, len(made), *made, *args)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


# --- The embedded cache: the same steps over cache entries, under a process lock (one process) ---------------
_local_lock = threading.Lock()


def _local_get(key: str) -> dict:
    return _cache().get(key) or {}


def _local_live(user_id: int, now: float) -> dict[str, float]:
    leases = {socket: expiry for socket, expiry in _local_get(_leases_key(user_id)).items() if expiry > now}
    return leases


def _local_store(user_id: int, leases: dict[str, float], index: dict[int, float]) -> None:
    cache = _cache()
    if leases:
        cache.set(_leases_key(user_id), leases, 2 * lease_seconds())
    else:
        cache.delete(_leases_key(user_id))
    cache.set(INDEX_KEY, index, INDEX_TTL_SECONDS)


# --- The steps ---------------------------------------------------------------------------------------------------
# This process's leases (socket id -> user id), renewed by `refresh`. A release removes its lease from here and
# from the store under the same lock as `refresh` reads and renews, so a renewal never re-creates a released lease.
_held: dict[str, int] = {}
_held_lock = threading.Lock()


def presence_connect(user_id: int, socket_id: str, cap: int | None = None) -> tuple[bool, bool]:
    """Take a lease for the socket: (admitted, came online). Not admitted when the user already holds `cap`
    (default `CHAT_MAX_SOCKETS_PER_USER`) live leases; nothing is then held."""
    cap = settings.CHAT_MAX_SOCKETS_PER_USER if cap is None else cap
    if _on_redis():
        admitted, _, came = _run(
            _ACQUIRE, [_leases_key(user_id), INDEX_KEY], [user_id, socket_id, _ms(lease_seconds()), cap]
        )
        admitted, came = bool(admitted), bool(came)
    else:
        with _local_lock:
            now = time.monotonic()
            leases, index = _local_live(user_id, now), _local_get(INDEX_KEY)
            admitted = len(leases) < cap
            came = admitted and user_id not in index
            if admitted:
                leases[socket_id] = now + lease_seconds()
                index[user_id] = max(index.get(user_id, 0), leases[socket_id])
                _local_store(user_id, leases, index)
    if admitted:
        with _held_lock:
            _held[socket_id] = user_id
    return admitted, came


def presence_disconnect(user_id: int, socket_id: str) -> bool:
    """Give the socket's lease back; True when this made the user offline (the caller announces it)."""
    with _held_lock:
        _held.pop(socket_id, None)
        if _on_redis():
            return bool(_run(_RELEASE, [_leases_key(user_id), INDEX_KEY], [user_id, socket_id]))
        with _local_lock:
            now = time.monotonic()
            leases, index = _local_live(user_id, now), _local_get(INDEX_KEY)
            leases.pop(socket_id, None)
            if leases:
                index[user_id] = max(leases.values())
                _local_store(user_id, leases, index)
                return False
            went = index.pop(user_id, None) is not None
            _local_store(user_id, leases, index)
            return went


def refresh() -> int:
    """Renew the leases of this process's sockets (re-creating those the store lost); how many."""
    with _held_lock:
        held = list(_held.items())
        if not held:
            return 0
        if _on_redis():
            args: list = [_ms(lease_seconds())]
            for socket_id, user_id in held:
                args += [user_id, socket_id, _cache().make_and_validate_key(_leases_key(user_id))]
            _run(_REFRESH, [INDEX_KEY], args)
        else:
            with _local_lock:
                now = time.monotonic()
                index = _local_get(INDEX_KEY)
                for socket_id, user_id in held:
                    leases = _local_live(user_id, now)
                    leases[socket_id] = now + lease_seconds()
                    index[user_id] = max(index.get(user_id, 0), leases[socket_id])
                    _local_store(user_id, leases, index)
    return len(held)


def sweep() -> list[int]:
    """The users whose last lease expired, each returned to one caller only (across processes), to announce."""
    if _on_redis():
        prefix = _cache().make_and_validate_key(_leases_key(0))[:-1]
        return [int(user) for user in _run(_SWEEP, [INDEX_KEY], [prefix, SWEEP_BATCH])]
    with _local_lock:
        now = time.monotonic()
        index = _local_get(INDEX_KEY)
        claimed = []
        for user_id, expiry in list(index.items()):
            if expiry > now:
                continue
            leases = _local_live(user_id, now)
            if leases:
                index[user_id] = max(leases.values())
            else:
                del index[user_id]
                _cache().delete(_leases_key(user_id))
                claimed.append(user_id)
        if claimed:
            _cache().set(INDEX_KEY, index, INDEX_TTL_SECONDS)
        return claimed


def online_among(user_ids: list[int]) -> set[int]:
    """Those of the users who hold a live lease."""
    if not user_ids:
        return set()
    if _on_redis():
        return {int(user) for user in _run(_ONLINE, [INDEX_KEY], list(user_ids))}
    with _local_lock:
        now = time.monotonic()
        index = _local_get(INDEX_KEY)
        return {user_id for user_id in user_ids if index.get(user_id, 0) > now}


def held_count() -> int:
    return len(_held)


# --- The renewal task of this process ----------------------------------------------------------------------------
_task = None


def keep_alive() -> None:
    """Make sure this process renews its leases and sweeps expired ones (call from the event loop)."""
    global _task
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_renew_while_held())


async def _renew_while_held() -> None:
    while _held:
        await asyncio.sleep(refresh_seconds())
        await renew_now()


async def renew_now() -> None:
    """Renew this process's leases, then announce offline the users whose last lease expired (a dead process's)."""
    try:
        offline = await database_sync_to_async(_renew_and_sweep)()
    except Exception:
        logger.warning("chat: presence leases could not be renewed", exc_info=True)
        return
    for user_id, co_members in offline:
        if co_members:
            await deliver_to_users(co_members, event_text("presence", user=user_id, online=False))


def _renew_and_sweep() -> list[tuple[int, list[int]]]:
    refresh()
    return [(user_id, selectors.co_member_ids(user_id)) for user_id in sweep()]

"""Atomic counters in windows opened by their first hit: the request throttles and the failed-login limits.

`hit(key, window)` counts one more hit and answers the count so far in the current window, as one atomic step: a
caller compares the count with its limit and refuses when it is over. Counting comes first and the decision after,
so parallel requests can never all read "under the limit" before any of them is counted (DRF's throttles read a
list of timestamps, then wrote it back: 8 parallel clients passed 3 100 of 3 100 requests through a 3 000/min limit).

A window opens at a key's first hit and lasts `window` seconds, so a burst cannot straddle two aligned windows to
get twice the limit. The window is decided by the application's clock (`time.time()`, passed in), not the cache
server's: the key's expiry only collects the garbage.

- Redis (`config.cache.SharedRedisCache`, any Django RedisCache): one Lua script, one round trip. The key is a hash
  {s: window start, n: count}.
- The embedded cache (`config.cache.LocalCache`): the same step under the cache's lock.
- Any other backend: `add` then `incr` (each atomic), the window start under a second key.

`hit(..., amount=n)` counts n at once (the bytes of a storage quota) and `release(..., amount=n)` gives them back.
`release(key, start)` gives one hit back to the window that took it (a login attempt that turned out to be no
failure); `reset(key)` forgets the key. Errors (the cache is down) propagate: the callers fail open and log.

Why it stays in config: it is the counting primitive of config's own base throttles (`config/throttling.py`), tied
to config's cache backends (the embedded one, `config/cache.py`, implements its atomic step); accounts' failed-login
limits and chat's send limits build on it from above. It is cache and throttle plumbing, not a building block of
the domain, so it is not in core.
"""

import contextlib
import math
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

_HIT = """
local start = redis.call('HGET', KEYS[1], 's')
if start and tonumber(start) + tonumber(ARGV[2]) > tonumber(ARGV[1]) then
  return {redis.call('HINCRBY', KEYS[1], 'n', ARGV[4]), start}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {tonumber(ARGV[4]), ARGV[1]}
"""

_RELEASE = """
if redis.call('HGET', KEYS[1], 's') == ARGV[1] and tonumber(redis.call('HGET', KEYS[1], 'n')) >= tonumber(ARGV[2]) then
  return redis.call('HINCRBY', KEYS[1], 'n', -tonumber(ARGV[2]))
end
return -1
"""


@dataclass(frozen=True)
class Window:
    count: int  # hits in this window, this one included
    start: float  # when the window opened (time.time())
    length: float  # seconds

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until the window ends (at least 1, at most its length)."""
        now = time.time() if now is None else now
        return max(1, math.ceil(min(self.length, self.start + self.length - now)))


def _cache():
    return caches["default"]


def _redis_client(cache: RedisCache, key: str):
    return cache._cache.get_client(key, write=True)


def hit(key: str, window: float, *, now: float | None = None, amount: int = 1) -> Window:
    """Count `amount` more (1: one hit; a number of bytes for a storage quota) and answer the window's total."""
    now = time.time() if now is None else now
    cache = _cache()
    if isinstance(cache, RedisCache):
        made = cache.make_and_validate_key(key)
        ttl_ms = math.ceil(window * 1000)
        count, start = _redis_client(cache, made).eval(_HIT, 1, made, repr(now), repr(window), ttl_ms, amount)
        return Window(int(count), float(start), window)
    if hasattr(cache, "window_hit"):
        count, start = cache.window_hit(key, window, now, amount)
        return Window(count, start, window)
    for _ in range(3):
        if cache.add(key, amount, window):
            cache.set(f"{key}:start", now, window)
            return Window(amount, now, window)
        try:
            count = cache.incr(key, amount)
        except ValueError:  # the window ended between add() and incr(): the next add() opens the next one
            continue
        return Window(count, cache.get(f"{key}:start", now), window)
    raise RuntimeError(f"counter {key} could not be counted")


def release(key: str, start: float, *, amount: int = 1) -> None:
    cache = _cache()
    if isinstance(cache, RedisCache):
        made = cache.make_and_validate_key(key)
        _redis_client(cache, made).eval(_RELEASE, 1, made, repr(start), amount)
    elif hasattr(cache, "window_release"):
        cache.window_release(key, start, amount)
    elif cache.get(f"{key}:start") == start:
        with contextlib.suppress(ValueError):  # the window ended meanwhile
            cache.decr(key, amount)


def reset(key: str) -> None:
    _cache().delete_many([key, f"{key}:start"])

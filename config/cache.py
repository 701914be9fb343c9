"""The cache backends: Redis with one client per process (production), and the embedded in-process cache.

SharedRedisCache is Django's Redis cache with one client, hence one connection pool, per process and location.
Django keeps its cache objects in a context-local store: under ASGI every request and every WebSocket consumer
runs in its own context, so each built its own `RedisCacheClient` and pool and opened its own Redis connection
(django/django#18459). A WebSocket's context lives as long as the socket, so each open socket held a Redis
connection and its 16 KiB read buffers: measured, 32 of the 76 KiB an idle chat socket cost the server, and one
Redis client per socket. Here every cache object of a process shares one client per (servers, options); the
client and redis-py's pool are thread-safe, and the pool reconnects by itself in a forked child.

RedisBreaker bounds what a stalled Redis costs a request: every command already waits at most REDIS_SOCKET_TIMEOUT,
but a request makes several (throttle, send limit, ticket, publish), each paying it. After one command of a process
times out or fails to connect, the process's Redis commands fail at once (redis.ConnectionError, which every caller
already handles: throttles fail open, chat events resync) for REDIS_BREAKER_SECONDS; then one command tries Redis
again while the others keep failing at once, and its answer closes the breaker. It covers the cache's connections
(what goes through them: throttles and counters, tickets, presence). The chat's channel layer keeps its own bound
(REDIS_SOCKET_TIMEOUT per command, chat/broadcast.py's PUBLISH_TIMEOUT_SECONDS per publish) and its resubscription
logic (chat/layer.py): measured in the fault suite, a breaker on its subscribing connection left a process's
subscriptions unrestored after a paused Redis.
"""

import pickle  # nosec B403  # values this process stored itself, never bytes from outside (see LocalCache)
import threading
import time
from typing import ClassVar

import redis
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

from config.metrics import observe_cache_get

BREAKER_OPEN_MESSAGE = "Redis did not answer moments ago: failing at once for REDIS_BREAKER_SECONDS"


class RedisBreaker:
    """Per process: closed (commands go to Redis), open (they fail at once) or probing (one command goes)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed
        self.trips = 0

    def admit(self) -> None:
        """Before a command is sent: raise while open; the first command after the open period is the probe."""
        if not self._open_until:
            return
        with self._lock:
            now = self.clock()
            if self._open_until and now < self._open_until:
                raise redis.ConnectionError(BREAKER_OPEN_MESSAGE)
            if self._open_until:
                # The probe: the others fail at once while it may wait for its answer.
                self._open_until = now + settings.REDIS_SOCKET_TIMEOUT + settings.REDIS_CONNECT_TIMEOUT

    def failed(self) -> None:
        seconds = settings.REDIS_BREAKER_SECONDS
        if seconds <= 0:
            return
        with self._lock:
            self._open_until = self.clock() + seconds
            self.trips += 1

    def answered(self) -> None:
        if self._open_until:
            with self._lock:
                self._open_until = 0.0

    def is_open(self) -> bool:
        return bool(self._open_until) and self.clock() < self._open_until


BREAKER = RedisBreaker()
_UNANSWERED = (redis.ConnectionError, redis.TimeoutError)


class BreakerConnection(redis.Connection):
    """redis-py's connection reporting to the process's RedisBreaker (the cache, throttles, tickets, presence)."""

    breaker = BREAKER
    _admitted = False  # inside an admitted command: what it sends itself (HELLO on connecting, a health-check PING)
    # is part of it, not asked again (the probe's own PING would be refused by the window the probe holds)

    def send_packed_command(self, command, check_health=True):
        if self._admitted:
            return super().send_packed_command(command, check_health)
        self.breaker.admit()
        self._admitted = True
        try:
            return super().send_packed_command(command, check_health)
        except _UNANSWERED:
            self.breaker.failed()
            raise
        finally:
            self._admitted = False

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except redis.ResponseError:
            self.breaker.answered()  # an error reply is an answer
            raise
        except _UNANSWERED:
            self.breaker.failed()
            raise
        self.breaker.answered()
        return response


_MISSING = object()


class CountedGets:
    """Counts every `get` as a hit or a miss (Prometheus `thebot_cache_gets_total`, config/metrics.py): the one
    place the cache hit ratio is measured, for both backends below (`get_or_set` reads through it too)."""

    def get(self, key, default=None, version=None):
        value = super().get(key, _MISSING, version)
        hit = value is not _MISSING
        observe_cache_get(key, hit)
        return value if hit else default


class SharedRedisCache(CountedGets, RedisCache):
    _clients: ClassVar[dict[tuple, RedisCacheClient]] = {}
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server, params):
        super().__init__(server, params)
        self._options = {"connection_class": BreakerConnection, **self._options}

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._class(self._servers, **self._options)
        return client


class LocalCache(CountedGets, LocMemCache):
    """The embedded mode's in-process cache: Django's LocMemCache that never evicts a live entry to make room.

    Django's LocMemCache, when full (MAX_ENTRIES, 300 by default), drops a third of its entries, oldest-used first,
    expired or not: minting a few hundred chat tickets pushed failed-login counters, other users' tickets and
    presence counters out. Here, when full, the expired entries go first (LocMemCache removes an expired entry only
    when it is read again, so most of a full cache is dead counters); only a cache still full of live entries culls.
    With the embedded MAX_ENTRIES (config/settings.py) that needs more live entries than one embedded process can
    create within their lifetimes (docs/security.md, "Limits").

    `window_hit` and `window_release` are the atomic window counters of config/counters.py, under the cache's lock
    (values are pickled by this process, as LocMemCache's own are).
    """

    def _cull(self) -> None:
        now = time.time()
        expired = [key for key, expiry in self._expire_info.items() if expiry is not None and expiry <= now]
        for key in expired:
            self._delete(key)
        if len(self._cache) >= self._max_entries:
            super()._cull()

    def window_hit(self, key: str, window: float, now: float, amount: int = 1) -> tuple[int, float]:
        key = self.make_and_validate_key(key)
        with self._lock:
            current = None if self._has_expired(key) else pickle.loads(self._cache[key])  # noqa: S301  # nosec B301  # our own
            if current is None or current[1] + window <= now:
                count, start = amount, now
                self._set(key, pickle.dumps((count, start), self.pickle_protocol), window)
            else:
                count, start = current[0] + amount, current[1]
                self._cache[key] = pickle.dumps((count, start), self.pickle_protocol)
                self._cache.move_to_end(key, last=False)
        return count, start

    def window_release(self, key: str, start: float, amount: int = 1) -> None:
        key = self.make_and_validate_key(key)
        with self._lock:
            if self._has_expired(key):
                return
            count, current_start = pickle.loads(self._cache[key])  # noqa: S301  # nosec B301  # our own
            if current_start == start and count >= amount:
                self._cache[key] = pickle.dumps((count - amount, start), self.pickle_protocol)

"""Django's Redis cache with one client, hence one connection pool, per process and location.

Django keeps its cache objects in a context-local store: under ASGI every request and every WebSocket consumer
runs in its own context, so each built its own `RedisCacheClient` and pool and opened its own Redis connection
(django/django#18459). A WebSocket's context lives as long as the socket, so each open socket held a Redis
connection and its 16 KiB read buffers: measured, 32 of the 76 KiB an idle chat socket cost the server, and one
Redis client per socket. Here every cache object of a process shares one client per (servers, options); the
client and redis-py's pool are thread-safe, and the pool reconnects by itself in a forked child.
"""

import threading
from typing import ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedRedisCache(RedisCache):
    _clients: ClassVar[dict[tuple, RedisCacheClient]] = {}
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._class(self._servers, **self._options)
        return client

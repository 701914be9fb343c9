"""What parallel test processes must not share: cache keys, channel-layer groups, uploaded files.

Under pytest-xdist every worker runs in its own process with its own database (tests/databases.py). The rest is
separated here, at the worker's start (`pytest_configure` in tests/conftest.py):
- Redis: every worker uses the one Redis database it is given (CI's is shared by all workers), under its own key
  prefix `<CACHE_KEY_PREFIX>-<worker>` for the cache and the channel layer, so that room groups, presence
  counters, tickets and throttles of one worker never meet another's. The prefix goes into the environment too,
  for the Daphne and worker processes that tests start. Tests empty only their own prefix (`cache_clear`), never
  the whole database (Django's `RedisCache.clear()` is FLUSHDB).
- Uploaded files: a MEDIA_ROOT of the worker's own under pytest's temporary directory (`media_root`).
- Ports: servers started by tests bind port 0 (a free port), never a fixed one.
"""

import os

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from config.cache import BREAKER
from core import caching


def worker_id(config) -> str | None:
    """`gw0`, `gw1`, ... in an xdist worker; None in a serial run (and in the xdist controller)."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


def separate_worker(worker: str) -> None:
    """Give this worker its own cache key prefix and channel-layer prefix (before any cache or layer is built)."""
    prefix = f"{os.environ.get('CACHE_KEY_PREFIX', 'thebot')}-{worker}"
    os.environ["CACHE_KEY_PREFIX"] = prefix
    if settings.REDIS_URL:
        settings.CACHES["default"]["KEY_PREFIX"] = prefix
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix + ":asgi"


def cache_clear() -> None:
    """Empty the cache of this process: on Redis only the keys under its prefix (the Redis database may be shared
    with other workers and runs), elsewhere the whole (process-local) cache."""
    BREAKER.answered()  # config/cache.py's Redis breaker, closed: a test that paused a Redis may have left it open
    backend = caches["default"]
    if isinstance(backend, RedisCache) and backend.key_prefix:
        client = backend._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{backend.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        backend.clear()
    caching.reset()  # the response cache's breaker and pending invalidations (core/caching.py)

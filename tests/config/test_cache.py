"""The Redis cache shares one connection pool per process (config/cache.py), whatever the async context."""

import contextvars
import os
import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a real Redis)")


def _connections_named(name: str) -> int:
    with redis.Redis.from_url(REDIS_URL) as admin:
        return sum(1 for client in admin.client_list() if client.get("name") == name)


def _read_in_fresh_contexts(backend: str, count: int) -> int:
    """Use the cache from `count` new contexts (as ASGI runs each request and socket) and count the Redis
    connections it opened, by client name. The contexts stay alive, as a WebSocket's does for its lifetime."""
    name = f"test-cache-{uuid.uuid4().hex[:12]}"
    config = {"default": {"BACKEND": backend, "LOCATION": REDIS_URL, "OPTIONS": {"client_name": name}}}
    with override_settings(CACHES=config):
        contexts = [contextvars.Context() for _ in range(count)]
        for context in contexts:
            context.run(lambda: caches["default"].get("test-cache-key"))
        return _connections_named(name)


def test_every_context_shares_one_connection():
    assert _read_in_fresh_contexts("config.cache.SharedRedisCache", 20) == 1


def test_django_backend_opens_one_per_context_which_is_why_ours_exists():
    # The control: without the shared client each context's cache object opens its own connection.
    assert _read_in_fresh_contexts("django.core.cache.backends.redis.RedisCache", 20) == 20

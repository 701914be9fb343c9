"""The response cache: answers read far more often than they change, under versioned keys.

Every cached answer names the scopes it depends on (`PEOPLE`, `SUBJECTS`, `ENROLLMENTS`, `user_scope(id)`); each
scope has a generation, a random token kept in the cache without expiry, and the answer's key carries the tokens of
all its scopes. A write that can change an answer calls `invalidate(*scopes)`: each scope gets a new token, so every
key built on the old one is never read again (O(1), nothing to find or delete; the dead entries expire after
`API_CACHE_TIMEOUT`). `invalidate` bumps at once and again after the commit: a reader that read the token before
the commit and the database before it too stores its stale answer under the superseded token, never the new one.

The cache failing (Redis down or paused) never fails a request: the answer is computed from the database, the
error logged, and the cache skipped entirely for `API_CACHE_BREAKER_SECONDS` (a dead Redis costs one socket
timeout per process and period, not one per request). Invalidations that could not be written meanwhile are kept
by the process and written before its next cached read; one lost with its process is bounded by the entries'
timeout. `cache_bypass()` computes every answer from the database (the property test compares the two).
"""

import contextlib
import contextvars
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger("thebot.cache")

PEOPLE = "people"  # any user's name, role, activity, profile, family links, Telegram link
SUBJECTS = "subjects"  # any subject
ENROLLMENTS = "enrollments"  # any enrollment (hence who sees whom, a teacher's subjects)

_bypass: contextvars.ContextVar[bool] = contextvars.ContextVar("cache_bypass", default=False)
_lock = threading.Lock()
_state = {"open_until": 0.0}
_pending: set[str] = set()
# Per process, since start: read by tests, benchmarks and the metrics.
stats = {"hits": 0, "misses": 0, "errors": 0, "skipped": 0}


def user_scope(user_id: int) -> str:
    """What only this user's own answers show (their last login)."""
    return f"user:{user_id}"


def _gen_key(scope: str) -> str:
    return f"cachegen:{scope}"


def _token() -> str:
    return uuid.uuid4().hex[:16]


@contextlib.contextmanager
def cache_bypass() -> Iterator[None]:
    """Within: every `cached` answer is computed from the database (invalidations are still written)."""
    reset = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(reset)


def reset() -> None:
    """Forget this process's breaker and pending invalidations (tests, after emptying the cache)."""
    with _lock:
        _state["open_until"] = 0.0
        _pending.clear()


def _broken() -> bool:
    return time.time() < _state["open_until"]


def _trip(error: Exception, scopes: tuple[str, ...] = ()) -> None:
    with _lock:
        _state["open_until"] = time.time() + settings.API_CACHE_BREAKER_SECONDS
        _pending.update(scopes)
    stats["errors"] += 1
    logger.warning("cache unavailable, reading the database for %ss: %r", settings.API_CACHE_BREAKER_SECONDS, error)


def _bump(scopes: tuple[str, ...]) -> None:
    if _broken():
        with _lock:
            _pending.update(scopes)
        return
    try:
        cache.set_many({_gen_key(scope): _token() for scope in scopes}, timeout=None)
    except Exception as error:  # noqa: BLE001 - any cache failure degrades to the database
        _trip(error, scopes)


def invalidate(*scopes: str) -> None:
    """A write changed what answers of these scopes show: new generations now and after the commit."""
    _bump(scopes)
    transaction.on_commit(lambda: _bump(scopes), robust=True)


def _flush_pending() -> None:
    with _lock:
        scopes = tuple(_pending)
        _pending.clear()
    if scopes:
        try:
            cache.set_many({_gen_key(scope): _token() for scope in scopes}, timeout=None)
        except Exception:
            with _lock:
                _pending.update(scopes)
            raise


def _version(scopes: tuple[str, ...]) -> str:
    keys = [_gen_key(scope) for scope in scopes]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, _token(), timeout=None)  # the first writer's token wins
        found.update(cache.get_many(missing))
    return ".".join(str(found.get(key, "")) for key in keys)


def cached(key: str, scopes: tuple[str, ...], compute: Callable[[], object]) -> object:
    """`compute()`'s answer, from the cache when it holds one for the current generations of `scopes`."""
    if not settings.API_CACHE_ENABLED or _bypass.get() or _broken():
        stats["skipped"] += 1
        return compute()
    try:
        _flush_pending()
        full_key = f"api:{key}:{_version(scopes)}"
        value = cache.get(full_key)
    except Exception as error:  # noqa: BLE001 - any cache failure degrades to the database
        _trip(error)
        return compute()
    if value is not None:
        stats["hits"] += 1
        return value
    stats["misses"] += 1
    value = compute()
    try:
        cache.set(full_key, value, settings.API_CACHE_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any cache failure degrades to the database
        _trip(error)
    return value


def request_key(request, name: str, *, user_id: int | None = None) -> str:
    """A cache key for a GET answer: its name, the user when the answer is theirs, and what the answer's links are
    built from (scheme, host, path, query string; hashed, so any bytes make a valid key)."""
    parts = [request.scheme, request.get_host(), request.path, request.META.get("QUERY_STRING", "")]
    source = "\n".join(parts).encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(source).hexdigest()[:32]
    return f"{name}:{user_id if user_id is not None else '-'}:{digest}"


class InvalidatingAdminMixin:
    """For a Django admin page whose writes change cached answers: every save (with its inlines and
    many-to-many fields) and delete invalidates `cache_scopes`, as the services do."""

    cache_scopes: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        invalidate(*self.cache_scopes)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        invalidate(*self.cache_scopes)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        invalidate(*self.cache_scopes)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        invalidate(*self.cache_scopes)

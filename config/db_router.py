"""Read replicas: reads of an HTTP request go to a healthy replica, everything else to the primary.

`DATABASE_REPLICA_URLS` (config/settings.py) adds the aliases `replica_0`, `replica_1`, … and installs
`ReplicaRouter`; `ReplicaRoutingMiddleware` marks each HTTP request. The rules (docs/operations.md "Read replicas"):

- Only a request's reads may go to a replica. Outside a request (the worker, migrations, management commands,
  the chat's WebSocket consumers) there is no request state, so everything uses the primary.
- A request that writes reads the primary from then on: a non-safe method (POST, PUT, PATCH, DELETE) from its
  start, any other from its first write. Reads inside a transaction (`atomic`) stay on the primary.
- Read-your-writes across requests and processes: after a request that wrote, its user's requests read the primary
  for `DATABASE_STICKY_SECONDS` (a marker in the shared cache, so every Daphne process sees it).
- Token and session lookups (knox, sessions) always read the primary: a token created a moment ago on the primary
  authenticates at once, whatever the replica's lag. So do the chat's models: its clients resync by message id.
- A replica that does not answer, or whose replay lags more than `DATABASE_REPLICA_MAX_LAG` seconds behind the WAL
  it has received, is skipped. Each process checks a replica at most every `DATABASE_REPLICA_CHECK_SECONDS`, on a
  short-lived connection with a connect timeout; a connection or query error on a replica marks it down at once,
  and a safe request that failed because of it is answered again from the primary, so a stopped replica costs no
  failed request.
"""

import contextvars
import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger("thebot.db")

PRIMARY = "default"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Apps read from the primary only. knox and sessions authenticate a request: a fresh login is never refused by a
# lagging replica. chat: a client resynchronizes by message id ("everything after id N", docs/websocket.md), and a
# page read from a replica a moment behind would skip a message that the client's next live id then hides for good.
PRIMARY_APPS = frozenset({"knox", "sessions", "chat"})
STICKY_KEY = "db-sticky:{user_id}"
# On the replica: how far replay is behind what the replica has received. Nothing pending means no lag, however
# long ago the last transaction was (an idle primary); else the age of the last replayed transaction.
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0) END"
)


@dataclasses.dataclass
class RequestState:
    """One HTTP request's routing: whether it reads the primary, and who it is for (once known)."""

    request: object
    primary: bool = False
    wrote: bool = False
    user_checked: bool = False
    replica_failed: bool = False


_state: contextvars.ContextVar[RequestState | None] = contextvars.ContextVar("db_request_state", default=None)


def replica_aliases() -> list[str]:
    return settings.DATABASE_REPLICAS


# --- health of the replicas, per process ---------------------------------------------------------------------------
class ReplicaHealth:
    """Which replicas are usable, checked at most every `DATABASE_REPLICA_CHECK_SECONDS` per replica and process.

    `probe(alias)` answers the lag in seconds, or raises when the replica does not answer. One thread probes
    a replica at a time; the others go on with the last answer meanwhile.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._states: dict[str, tuple[bool, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def usable(self, alias: str) -> bool:
        state = self._states.get(alias)
        if state is None or self.clock() - state[1] >= settings.DATABASE_REPLICA_CHECK_SECONDS:
            lock = self._lock(alias)
            if lock.acquire(blocking=state is None):
                try:
                    state = self._states[alias] = (self._check(alias), self.clock())
                finally:
                    lock.release()
            state = self._states.get(alias, state)
        return bool(state and state[0])

    def mark_down(self, alias: str) -> None:
        if self._states.get(alias, (True, 0))[0]:
            logger.warning("replica down", extra={"fields": {"alias": alias}})
        self._states[alias] = (False, self.clock())

    def forget(self) -> None:
        self._states.clear()

    def _lock(self, alias: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(alias, threading.Lock())

    def _check(self, alias: str) -> bool:
        try:
            lag = probe(alias)
        except (DatabaseError, psycopg.Error, OSError) as error:
            logger.warning("replica unreachable", extra={"fields": {"alias": alias, "error": str(error)[:200]}})
            return False
        if lag > settings.DATABASE_REPLICA_MAX_LAG:
            logger.warning("replica lagging", extra={"fields": {"alias": alias, "lag_seconds": round(lag, 3)}})
            return False
        return True


def probe(alias: str) -> float:
    """The replica's replay lag in seconds, on a connection of its own (not the pool's, whose wait for a dead
    server is the pool timeout); raises when it does not answer within the connect timeout."""
    params = connections[alias].settings_dict
    if params["ENGINE"] != "django.db.backends.postgresql":
        connections[alias].ensure_connection()  # SQLite (tests, embedded): a file is there or not; no lag
        return 0.0
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        connect_timeout=settings.DATABASE_REPLICA_CONNECT_TIMEOUT,
        autocommit=True,
    ) as conn:
        return float(conn.execute(LAG_SQL).fetchone()[0])


health = ReplicaHealth()
_rotation = itertools.count()


# --- the request's state --------------------------------------------------------------------------------------------
def _known_user_id(request) -> int | None:
    """The request's user id once authentication has run, without running it: DRF puts the authenticated user on
    the Django request; the session's lazy user counts once something has evaluated it."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped
        if user is empty:
            return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def _sticky(user_id: int) -> bool:
    try:
        return cache.get(STICKY_KEY.format(user_id=user_id)) is not None
    except Exception:  # noqa: BLE001  # a cache that does not answer: read the primary (always correct)
        return True


def _reads_primary(state: RequestState) -> bool:
    if state.primary:
        return True
    if not state.user_checked:
        user_id = _known_user_id(state.request)
        if user_id is not None:
            state.user_checked = True
            if _sticky(user_id):
                state.primary = True
    return state.primary


def _replica_error_wrapper(alias: str):
    def wrapper(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except (OperationalError, InterfaceError):  # the connection, not the query
            state = _state.get()
            if state is not None:
                state.replica_failed = True
            health.mark_down(alias)
            raise

    wrapper.replica_alias = alias
    return wrapper


def _connected(alias: str) -> bool:
    """The replica's connection of this thread is open (opened now if needed), with the error watch installed."""
    connection = connections[alias]
    if not any(getattr(w, "replica_alias", None) == alias for w in connection.execute_wrappers):
        connection.execute_wrappers.append(_replica_error_wrapper(alias))
    try:
        connection.ensure_connection()
    except DatabaseError:
        health.mark_down(alias)
        return False
    return True


def replica_for_read() -> str | None:
    """The alias this read goes to: a usable replica, or None (the primary)."""
    state = _state.get()
    if state is None or _reads_primary(state) or connections[PRIMARY].in_atomic_block:
        return None
    aliases = replica_aliases()
    if not aliases:
        return None
    start = next(_rotation)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if health.usable(alias) and _connected(alias):
            return alias
    return None


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label in PRIMARY_APPS:
            return PRIMARY
        return replica_for_read() or PRIMARY

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.primary = state.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas hold the primary's data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaRoutingMiddleware:
    """Marks an HTTP request for ReplicaRouter; after a request that wrote, marks its user sticky to the primary.
    A safe request that failed because a replica failed under it is answered again, from the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        state = RequestState(request=request, primary=not safe)
        token = _state.set(state)
        try:
            response = self.get_response(request)
            if safe and state.replica_failed and response.status_code >= 500:
                logger.warning("request answered again from the primary after a replica error")
                state.primary = True
                state.replica_failed = False
                response = self.get_response(request)
        finally:
            _state.reset(token)
        if state.wrote or (not safe and response.status_code < 400):
            user_id = _known_user_id(request)
            if user_id is not None:
                try:
                    cache.set(STICKY_KEY.format(user_id=user_id), 1, timeout=settings.DATABASE_STICKY_SECONDS)
                except Exception:  # noqa: BLE001  # the cache down: the user may read a lagging replica
                    logger.warning("sticky marker not stored", extra={"fields": {"user_id": user_id}})
        return response

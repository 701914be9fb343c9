"""Closing the sockets of revoked sessions and deactivated users within a minute (docs/security.md "Real time").

A socket remembers the session its ticket was issued for (the knox token's digest, a hash, never the token).
Each server process keeps its open sockets here, and one task per process checks all of them every
`CHAT_SESSION_CHECK_SECONDS` (default 30) with one query per 1 000 sockets, closing with 4401 those whose token
was revoked (logout, logout-all, password change, reset, the admin) or has expired, or whose user was
deactivated. Polling rather than events: a revocation can come from any code path or straight from the
database, and the channel layer is at most once; checking every socket of a process costs one indexed query.
The task runs only while the process has sockets open. A failing check (the database down) never ends it: it
is logged at WARNING and tried again after 1, 2, 4 … seconds (never longer than the period), so a session
revoked during or after an outage still loses its sockets within a period of the database being back.

The same registry serves `resync_all`: when the channel layer's subscriptions of this process were lost and are
back (chat/layer.py), every socket of the process follows its rooms again (membership events may have been lost
too) and is sent a `resync` frame (docs/websocket.md "Reconnect and resync").
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User
from chat.broadcast import RESYNC_TEXT
from chat.models import Participant

logger = logging.getLogger("thebot.chat")
CLOSE_REVOKED = 4401
CHUNK = 1000

# Per process: socket (consumer) -> (user id, token digest or None when the ticket named no token).
_sockets: dict[object, tuple[int, str | None]] = {}
_task: asyncio.Task | None = None


def check_interval() -> float:
    return settings.CHAT_SESSION_CHECK_SECONDS


def _live_tokens():
    return AuthToken.objects.filter(Q(user__is_active=True) & (Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())))


def session_user(user_id: int, digest: str | None) -> User | None:
    """At connect, in one query: the user, when active and, if the ticket names a session, that session is live."""
    users = User.objects.filter(pk=user_id, is_active=True)
    if digest is not None:
        users = users.filter(Exists(_live_tokens().filter(user=OuterRef("pk"), digest=digest)))
    return users.first()


def register(socket, user_id: int, digest: str | None) -> None:
    global _task
    _sockets[socket] = (user_id, digest)
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_check_while_open())


def unregister(socket) -> None:
    _sockets.pop(socket, None)


async def _check_while_open() -> None:
    failures = 0
    while _sockets:
        period = check_interval()
        await asyncio.sleep(min(period, 2.0 ** (failures - 1)) if failures else period)
        try:
            await close_revoked()
        except Exception as error:  # noqa: BLE001 - the loop must outlive any failure, the database's first
            failures += 1
            logger.warning(
                "session check failed; retrying",
                extra={"fields": {"failures": failures, "error": type(error).__name__}},
            )
            continue
        if failures:
            logger.warning("session check back", extra={"fields": {"failures": failures}})
        failures = 0


async def close_revoked() -> int:
    """Close every open socket of this process whose session or user is no longer valid; how many were closed."""
    open_now = dict(_sockets)
    if not open_now:
        return 0
    valid = await database_sync_to_async(_valid_keys)(set(open_now.values()))
    closed = 0
    for socket, key in open_now.items():
        if key not in valid and socket in _sockets:
            unregister(socket)
            with contextlib.suppress(Exception):  # the socket may be closing on its own meanwhile
                await socket.close(code=CLOSE_REVOKED)
            closed += 1
    return closed


async def resync_all() -> int:
    """Tell every socket of this process to resync, after re-reading its rooms; how many were told."""
    open_now = dict(_sockets)
    if not open_now:
        return 0
    rooms = await database_sync_to_async(_rooms_of)({user_id for user_id, _ in open_now.values()})
    told = 0
    for socket, (user_id, _) in open_now.items():
        if socket not in _sockets:
            continue
        try:
            await socket.rooms_follow(rooms.get(user_id, set()))
            await socket.send(text_data=RESYNC_TEXT)
            told += 1
        except Exception:  # the socket may be closing on its own meanwhile
            logger.warning("chat: a socket could not be told to resync", exc_info=True)
    return told


def _rooms_of(user_ids: set[int]) -> dict[int, set[int]]:
    rooms: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    ordered = sorted(user_ids)
    for start in range(0, len(ordered), CHUNK):
        rows = Participant.objects.filter(user_id__in=ordered[start : start + CHUNK]).values_list("user_id", "room_id")
        for user_id, room_id in rows:
            rooms[user_id].add(room_id)
    return rooms


def _valid_keys(keys: Iterable[tuple[int, str | None]]) -> set[tuple[int, str | None]]:
    keys = set(keys)
    digests = sorted({digest for _, digest in keys if digest})
    valid_tokens: set[tuple[int, str]] = set()
    for start in range(0, len(digests), CHUNK):
        rows = _live_tokens().filter(digest__in=digests[start : start + CHUNK])
        valid_tokens.update(rows.values_list("user_id", "digest"))
    users = sorted({user_id for user_id, digest in keys if not digest})
    active_users: set[int] = set()
    for start in range(0, len(users), CHUNK):
        rows = User.objects.filter(is_active=True, pk__in=users[start : start + CHUNK])
        active_users.update(rows.values_list("pk", flat=True))
    return {
        (user_id, digest)
        for user_id, digest in keys
        if ((user_id, digest) in valid_tokens if digest else user_id in active_users)
    }

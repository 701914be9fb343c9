"""Socket fan-out of live events: serialized once, then fanned out by the channel layer to every socket concerned.

Group layout, chosen by measurement (docs/architecture.md "Chat"): one group per room, which every socket of every
member joins (at connect, and on `chat.membership` events when someone joins or leaves a room), plus one group per
user for events addressed to people rather than rooms (presence, membership changes). A room event is one
`group_send` to one group: with the Redis pub/sub layer, one PUBLISH that each server process receives once and
hands to its own sockets in the room. With a group per user, the same broadcast into a 50-member room cost 50
`group_send`s, and with the list-based layer 50 entries in each process's single inbox, which overflowed its
capacity (lost deliveries) and capped throughput near 50 deliveries/s per process.

Every event is JSON text built once by its producer (a message's by the marshaller of the service layer,
`chat/services/payloads.py`, the same one the REST serializer uses); consumers forward it as-is, so a delivery
costs no serialization. This module is transport only: groups, publishing after commit, resync after a
failure. The layer is at-most-once: everything that matters is in the database with an id, and clients
resynchronize by id.

A write that committed is done whatever happens to its event: a publish that fails (Redis down, or slower than
`PUBLISH_TIMEOUT_SECONDS`) is logged, never raised into the request, and the room's sockets are sent a `resync`
frame as soon as publishing works again (`_resync_rooms`); sockets whose subscriptions were lost are told by the
channel layer itself (chat/layer.py, chat/revocation.py `resync_all`).
"""

import asyncio
import json
import logging
import threading
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from config.metrics import PUBLISH_FAILURES

logger = logging.getLogger("thebot.chat")

# Group message types; the consumer's handlers are named after them (`chat_event`, `chat_typing`, ...).
RELAY_TYPE = "chat.event"
TYPING_TYPE = "chat.typing"
MEMBERSHIP_TYPE = "chat.membership"


def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"


def room_group(room_id: int) -> str:
    return f"chat.room.{room_id}"


def event_text(event_type: str, **fields) -> str:
    return json.dumps({"type": event_type, **fields}, separators=(",", ":"), ensure_ascii=False)


async def deliver_to_room(room_id: int, text: str, *, layer_type: str = RELAY_TYPE, **extra) -> None:
    """The room's id goes along so that a socket that has just left the room drops an event already queued."""
    message = {"type": layer_type, "text": text, "room": room_id, **extra}
    await get_channel_layer().group_send(room_group(room_id), message)


async def deliver_to_users(user_ids: Iterable[int], text: str) -> None:
    layer = get_channel_layer()
    message = {"type": RELAY_TYPE, "text": text}
    await asyncio.gather(*(layer.group_send(user_group(user_id), message) for user_id in set(user_ids)))


# A publish that takes longer (Redis paused, or unreachable without a refusal) is given up: the write stands.
PUBLISH_TIMEOUT_SECONDS = 2.0
# Seconds between attempts to tell the rooms whose events could not be published to resync.
RESYNC_RETRY_SECONDS = 0.5
RESYNC_TEXT = '{"type":"resync"}'

# Rooms an event of which could not be published, not yet told to resync: room id -> the lowest id of a message whose
# `message.new` was lost (None when only other events were). The `resync` frame names it as `after` (one below):
# a client's highest id from the stream may already be above it, since later messages of the room can be delivered
# live before the resync goes out (measured by tests/faults/: a paused Redis lost three messages that way).
_missed_rooms: dict[int, int | None] = {}
_missed_lock = threading.Lock()
_resync_task: asyncio.Task | None = None


def room_event_on_commit(room_id: int, text: str, *, message_id: int | None = None) -> None:
    """Send a room event once the current transaction has committed. Blocking until the layer has taken it
    keeps one sender's events in order for every receiver. A failure is logged and answered by a `resync` to the
    room later; it never fails the request (the write has committed). `message_id`: the new message the event
    announces, which that `resync` then tells clients to fetch from."""
    transaction.on_commit(lambda: _publish_after_commit(room_id, text, message_id))


def _missed(room_id: int, message_id: int | None) -> None:
    with _missed_lock:
        lost = [pk for pk in (_missed_rooms.get(room_id), message_id) if pk is not None]
        _missed_rooms[room_id] = min(lost) if lost else None


def _resync_text(room_id: int, message_id: int | None) -> str:
    if message_id is None:
        return event_text("resync", room=room_id)
    return event_text("resync", room=room_id, after=message_id - 1)


def _publish_after_commit(room_id: int, text: str, message_id: int | None = None) -> None:
    try:
        async_to_sync(_deliver_bounded)(room_id, text)
    except Exception:
        PUBLISH_FAILURES.labels("room_event").inc()
        logger.warning(
            "chat: an event could not be published; the room will be told to resync",
            exc_info=True,
            extra={"fields": {"room_id": room_id}},
        )
        _missed(room_id, message_id)
        try:
            async_to_sync(_resync_rooms_soon)()
        except Exception:
            logger.exception("chat: the room resync could not be scheduled")


async def _deliver_bounded(room_id: int, text: str) -> None:
    async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
        await deliver_to_room(room_id, text)


async def _resync_rooms_soon() -> None:
    """One task per event loop retries until every missed room was told (in a server that is the process's
    loop; a temporary loop of a script or test cancels it when it ends)."""
    global _resync_task
    loop = asyncio.get_running_loop()
    if _resync_task is None or _resync_task.done() or _resync_task.get_loop() is not loop:
        _resync_task = loop.create_task(_resync_rooms())


async def _resync_rooms() -> None:
    while True:
        await asyncio.sleep(RESYNC_RETRY_SECONDS)
        with _missed_lock:
            rooms = sorted(_missed_rooms.items())
        if not rooms:
            return
        for room_id, message_id in rooms:
            try:
                async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                    await deliver_to_room(room_id, _resync_text(room_id, message_id))
            except Exception:  # noqa: BLE001 (still failing: logged when it failed first; try again later)
                break
            with _missed_lock:
                if _missed_rooms.get(room_id, -1) == message_id:  # else a newer loss came meanwhile: told next time
                    del _missed_rooms[room_id]


async def _membership_send(user_ids: list[int], room_id: int, joined: bool) -> None:
    layer = get_channel_layer()
    message = {"type": MEMBERSHIP_TYPE, "room": room_id, "joined": joined}
    await asyncio.gather(*(layer.group_send(user_group(user_id), message) for user_id in set(user_ids)))


def membership_on_commit(user_ids: Iterable[int], room_id: int, *, joined: bool) -> None:
    """Tell the users' open sockets to join (or leave) the room's group after commit."""
    recipients = list(user_ids)
    if recipients:
        transaction.on_commit(lambda: _membership_after_commit(recipients, room_id, joined))


def _membership_after_commit(recipients: list[int], room_id: int, joined: bool) -> None:
    """Like a room event, a membership event that cannot be published never fails the committed write: the
    sockets follow the change when they reconnect (and on every `resync`, chat/revocation.py)."""
    try:
        async_to_sync(_membership_send_bounded)(recipients, room_id, joined)
    except Exception:
        PUBLISH_FAILURES.labels("membership").inc()
        logger.warning("chat: a membership event could not be published", exc_info=True)


async def _membership_send_bounded(recipients: list[int], room_id: int, joined: bool) -> None:
    async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
        await _membership_send(recipients, room_id, joined)
